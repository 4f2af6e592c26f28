import { Text, View } from '@tarojs/components';
import { BILL_STATUS_LABEL, formatFen, type BillView } from '@heat-butler/shared';
import { getSessionKind, getToken } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { billingApi } from '../../services/api/billing';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { PayAllCards } from '../../components/pay-all';

function statusTag(b: BillView) {
  if (b.arrears) return <Text className='tag tag-red'>往年欠费</Text>;
  return <Text className={b.status === 'paid' ? 'tag tag-green' : 'tag'}>{BILL_STATUS_LABEL[b.status]}</Text>;
}

/** 账单: every bound account's bills, unpaid first (arrears first of all). */
export default function Bills() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const bills = useData(() => billingApi.bills(), [], { onShow: true, enabled: isResident });
  // how many accounts are bound (0: offer to bind one); quiet: the bills' error is shown
  const bound = useData(() => accountsApi.list({ quiet: true }).then((r) => r.items.length), [], { onShow: true, enabled: isResident });
  const list = bills.data;
  const accounts = bound.data;

  if (!loggedIn) {
    return (
      <View className='page'>
        <Empty>登录并绑定户号后查看账单</Empty>
        <View className='btn btn-primary' onClick={() => nav.to(PAGES.login)}>
          微信登录
        </View>
      </View>
    );
  }

  const unpaid = list?.items.filter((b) => b.status === 'unpaid') ?? [];
  const paid = list?.items.filter((b) => b.status !== 'unpaid') ?? [];
  return (
    <View className='page'>
      <LoadError error={bills.error} onRetry={bills.reload} />
      {list ? (
        <View className='hero'>
          <View className='hero-sub'>待缴合计</View>
          <View className='hero-amount' data-total-due>
            {formatFen(list.totalDueFen)}
          </View>
          <View className='hero-sub'>{unpaid.length ? `${unpaid.length} 笔账单待缴` : '全部账单已缴清'}</View>
        </View>
      ) : null}
      {list ? <PayAllCards bills={list.items} onChange={bills.reload} /> : null}
      {accounts === 0 ? (
        <View>
          <Empty>还没有绑定户号</Empty>
          <View className='btn btn-primary' onClick={() => nav.to(PAGES.bind)}>
            绑定户号
          </View>
        </View>
      ) : null}
      {[...unpaid, ...paid].map((b) => (
        <View
          className='card bill-card'
          key={b.id}
          data-bill-id={b.id}
          data-account-no={b.accountNo}
          data-season={b.season}
          onClick={() => nav.to(PAGES.billDetail, { id: b.id })}
        >
          <View className='row'>
            <Text className='card-title'>{b.seasonLabel}</Text>
            {statusTag(b)}
          </View>
          <View className='muted'>{b.address}</View>
          <View className='muted'>
            户号 {b.accountNo}
            {b.kind === 'base' ? ' · 已报停（基础热费）' : ''}
          </View>
          <View className='row bill-amount-row'>
            {b.status === 'unpaid' ? <Text className='muted'>缴费截止 {b.dueDate}</Text> : <Text className='muted'>已缴 {formatFen(b.paidFen)}</Text>}
            {b.status === 'unpaid' ? <Text className='amount'>{formatFen(b.dueFen)}</Text> : null}
          </View>
        </View>
      ))}
      {list && list.items.length ? (
        <View className='btn btn-plain' onClick={() => nav.to(PAGES.payments)}>
          缴费记录
        </View>
      ) : null}
    </View>
  );
}
