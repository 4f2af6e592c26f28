/**
 * Beside a resident's question in the inbox: their accounts in that building (户号, address,
 * relation), each account's bills (due and paid), their open repair tickets and the staff's
 * private notes — so an agent answers "欠费了吗？" without asking back.
 */
import { Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen } from '@heat-butler/shared';
import { groupsApi } from '../services/api/groups';
import { useData } from '../services/use-data';
import { LoadError } from './ui';

export function ResidentContext(props: { messageId: number; residentId: number | null }) {
  const context = useData(() => groupsApi.context({ id: props.messageId }, { quiet: true }), [props.messageId]);
  // notes are extra: a failure leaves them out
  const notes = useData(async () => (props.residentId ? groupsApi.notes({ id: props.residentId }, { quiet: true }) : { items: [] }), [props.residentId]);
  const c = context.data;
  return (
    <View className='card inbox-context' data-inbox-context>
      <View className='row'>
        <Text className='card-title'>住户信息</Text>
        {c ? <Text className='muted'>{c.residentLabel}</Text> : null}
      </View>
      <LoadError error={context.error} onRetry={context.reload} />
      {c && !c.accounts.length ? <View className='muted'>该住户已不在本楼栋绑定户号</View> : null}
      {c?.accounts.map((a) => (
        <View key={a.accountId} className='ctx-account' data-ctx-account={a.accountNo}>
          <View className='ctx-line'>
            <Text className='strong'>户号 {a.accountNo}</Text>
            <Text className='tag tag-grey'>{a.relationLabel}</Text>
          </View>
          <View className='muted' data-ctx-address>
            {a.address}
          </View>
          <View className='ctx-line'>
            <Text className='muted'>
              户主 {a.ownerNameMasked} · {a.statusLabel}
            </Text>
            {a.dueFen > 0 ? (
              <Text className='ctx-due' data-ctx-due>
                待缴 {formatFen(a.dueFen)}
              </Text>
            ) : (
              <Text className='tag tag-green' data-ctx-due>
                无待缴
              </Text>
            )}
          </View>
          {a.bills.map((b) => (
            <View key={b.id} className='ctx-line' data-ctx-bill={b.season}>
              <Text>{b.seasonLabel}</Text>
              <Text className={b.status === 'unpaid' ? 'ctx-due' : 'muted'}>
                {b.statusLabel}
                {b.status === 'unpaid' ? ` ${formatFen(b.dueFen)}` : b.paidFen ? ` 已缴${formatFen(b.paidFen)}` : ''}
              </Text>
            </View>
          ))}
          {!a.bills.length ? <View className='muted'>暂无账单</View> : null}
        </View>
      ))}
      {c ? (
        <View data-ctx-tickets>
          <View className='field-label'>未完成的报修（{c.openTickets.length}）</View>
          {!c.openTickets.length ? <View className='muted'>没有未完成的报修</View> : null}
          {c.openTickets.map((t) => (
            <View key={t.id} className='ctx-line' data-ctx-ticket={t.no}>
              <Text>
                {t.emergency ? '【紧急】' : ''}
                {t.categoryLabel} · {t.no}
              </Text>
              <Text className='muted'>
                {t.statusLabel} · {formatChinaTime(t.createdAt).slice(5)}
              </Text>
            </View>
          ))}
        </View>
      ) : null}
      {notes.data?.items.length ? (
        <View data-ctx-notes>
          <View className='field-label'>员工备注</View>
          {notes.data.items.slice(0, 5).map((n) => (
            <View key={n.id} className='muted'>
              {n.staffName}：{n.body}
            </View>
          ))}
        </View>
      ) : null}
    </View>
  );
}
