import { Text, View } from '@tarojs/components';
import { formatChinaTime, type ComplaintView } from '@heat-butler/shared';

/** A complaint's state as a tag, green once it is closed. */
export function ComplaintStatusTag({ c }: { c: Pick<ComplaintView, 'status' | 'statusLabel'> }) {
  return <Text className={c.status === 'closed' ? 'tag tag-green' : 'tag'}>{c.statusLabel}</Text>;
}

/** While a complaint is open or being handled: the promised close deadline in China time. */
export function ComplaintDue({ c }: { c: Pick<ComplaintView, 'status' | 'closeDueAt' | 'extended'> }) {
  return c.status === 'open' || c.status === 'processing' ? (
    <View className='repair-promise' data-complaint-due>
      承诺 {formatChinaTime(c.closeDueAt)} 前办结{c.extended ? '（经您同意延长）' : ''}
    </View>
  ) : null;
}
