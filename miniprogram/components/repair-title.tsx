import { Text, View } from '@tarojs/components';
import type { RepairView } from '@heat-butler/shared';

/**
 * A repair's title row wherever a resident sees it (home, the list, the detail): 【紧急】 and the
 * category, then the status tag, green once the repair is closed.
 */
export function RepairTitle({
  t,
  titleClass = 'card-title',
}: {
  t: Pick<RepairView, 'emergency' | 'categoryLabel' | 'status' | 'statusLabel'>;
  titleClass?: string;
}) {
  return (
    <View className='row'>
      <Text className={titleClass}>
        {t.emergency ? '【紧急】' : ''}
        {t.categoryLabel}
      </Text>
      <Text className={t.status === 'closed' ? 'tag tag-green' : 'tag'}>{t.statusLabel}</Text>
    </View>
  );
}
