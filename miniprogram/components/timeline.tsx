import { View } from '@tarojs/components';
import { formatChinaTime } from '@heat-butler/shared';

/** One state change as the server lists it (oldest first). */
export interface TimelineStep {
  label: string;
  at: string;
  reason: string | null;
}

/** A card of state changes, newest first: what happened, when (China time) and the reason given. */
export function Timeline({ steps, title = '处理进度' }: { steps: readonly TimelineStep[]; title?: string }) {
  return (
    <View className='card'>
      <View className='card-title'>{title}</View>
      {steps
        .slice()
        .reverse()
        .map((x, i) => (
          <View className='list-item' key={i}>
            <View>{x.label}</View>
            <View className='muted'>
              {formatChinaTime(x.at)}
              {x.reason ? ` · ${x.reason}` : ''}
            </View>
          </View>
        ))}
    </View>
  );
}
