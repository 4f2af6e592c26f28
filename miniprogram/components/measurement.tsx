import { Text, View } from '@tarojs/components';
import type { MeasurementView } from '@heat-butler/shared';

/** A measurement's readings, room by room, and its conclusion (resident and staff pages). */
export function MeasurementReadings({ m }: { m: Pick<MeasurementView, 'readings' | 'complianceLabel'> }) {
  return (
    <>
      {m.readings.map((r) => (
        <View className='list-item row' key={r.room}>
          <Text>{r.room}</Text>
          <Text>{r.readingC.toFixed(1)}℃</Text>
        </View>
      ))}
      {m.complianceLabel ? <View>结论：{m.complianceLabel}</View> : null}
    </>
  );
}
