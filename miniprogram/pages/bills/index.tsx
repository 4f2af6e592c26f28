import { Text, View } from '@tarojs/components';
import { BILL_STATUS_LABEL, chinaDate, daysBetween, formatFen, refundedByBill, type BillSummary } from '@heat-butler/shared';
import { getSessionKind, getToken } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { billingApi, paymentsApi } from '../../services/api/billing';
import { nav, PAGES } from '../../services/pages';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { PayAllCards } from '../../components/pay-all';

function statusTag(b: BillSummary) {
  if (b.arrears) return <Text className='tag tag-red'>往年欠费</Text>;
  return <Text className={b.status === 'paid' ? 'tag tag-green' : 'tag'}>{BILL_STATUS_LABEL[b.status]}</Text>;
}

/** What is left of a paid bill after refunds, and the refunds (from the payments of the bill). */
function paidText(b: BillSummary, refundedFen: number): string {
  return refundedFen > 0 ? `实缴 ${formatFen(b.paidFen - refundedFen)}（已退款 ${formatFen(refundedFen)}）` : `已缴 ${formatFen(b.paidFen)}`;
}

/** "缴费截止 …" before the due date; "已逾期 N 天" after it (the detail says since when and the late fee). */
function dueText(b: BillSummary, today: string): string {
  const late = daysBetween(b.dueDate, today);
  return late > 0 ? `已逾期 ${late} 天${b.lateFeeFen ? `，含滞纳金 ${formatFen(b.lateFeeFen)}` : ''}` : `缴费截止 ${b.dueDate}`;
}

/** 账单: every bound account's bills, unpaid first (arrears first of all), grouped per household when there are several. */
export default function Bills() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const bills = useData(() => billingApi.bills(), [], { onShow: true, enabled: isResident });
  // how many accounts are bound (0: offer to bind one); quiet: the bills' error is shown
  const bound = useData(() => accountsApi.list({ quiet: true }).then((r) => r.items.length), [], { onShow: true, enabled: isResident });
  // refunds per bill (the bill keeps what was paid; the payments know what went back, a pay-all's bill by bill)
  const refunds = useData(async () => refundedByBill((await paymentsApi.list({ quiet: true })).items), [], { onShow: true, enabled: isResident });
  const list = bills.data;
  const accounts = bound.data;
  const today = chinaDate(Date.now());

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
      {households(unpaid, paid).map((h) => (
        <View key={h.accountNo} className='bill-household' data-household={h.accountNo}>
          {h.header ? (
            <View className='household-title'>
              <Text className='strong'>户号 {h.accountNo}</Text>
              <Text className='muted'> {h.address}</Text>
            </View>
          ) : null}
          {h.bills.map((b) => (
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
                {b.status === 'unpaid' ? (
                  <Text className={daysBetween(b.dueDate, today) > 0 ? 'muted overdue' : 'muted'}>{dueText(b, today)}</Text>
                ) : (
                  <Text className='muted'>{paidText(b, refunds.data?.get(b.id) ?? 0)}</Text>
                )}
                {b.status === 'unpaid' ? <Text className='amount'>{formatFen(b.dueFen)}</Text> : null}
              </View>
            </View>
          ))}
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

/**
 * The bills per household (in the order their first bill comes: unpaid first), each household's
 * unpaid bills before its paid ones; a header only when there are several households.
 */
function households(unpaid: BillSummary[], paid: BillSummary[]): { accountNo: string; address: string; header: boolean; bills: BillSummary[] }[] {
  const groups = new Map<string, { accountNo: string; address: string; header: boolean; bills: BillSummary[] }>();
  for (const b of [...unpaid, ...paid]) {
    const g = groups.get(b.accountNo) ?? { accountNo: b.accountNo, address: b.address, header: false, bills: [] };
    g.bills.push(b);
    groups.set(b.accountNo, g);
  }
  const all = [...groups.values()];
  for (const g of all) g.header = all.length > 1;
  return all;
}
