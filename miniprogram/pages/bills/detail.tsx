import { useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { BILL_KIND_LABEL, BILL_STATUS_LABEL, billDueNote, chinaDate, formatChinaTime, formatFen, refundedByBill } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { billingApi, paymentsApi } from '../../services/api/billing';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';
import { payBill } from '../../services/pay';
import { PayAllCard, payAllGroups } from '../../components/pay-all';

/** 账单详情: the computation line by line, and 立即缴费. */
export default function BillDetail() {
  const { params } = useRouter();
  const [busy, setBusy] = useState(false);
  /** the server's refusal (ARREARS_FIRST), shown on the page */
  const [refusal, setRefusal] = useState('');
  const { data: bill, error, reload: load } = useData(() => billingApi.bill({ billId: params.id! }), [], { onShow: true });
  // refunds off this bill (the bill keeps what was paid; a pay-all order's refunds say which bill they came off)
  const refunded = useData(async () => refundedByBill((await paymentsApi.list({ quiet: true })).items).get(Number(params.id)) ?? 0, [], { onShow: true });

  // with arrears to pay first: the household's bills, for 一键缴清 (the arrears and this bill in one payment)
  const household = useData(async () => (bill?.payFirst ? (await billingApi.bills({ quiet: true })).items : null), [bill?.payFirst?.billId], {
    onShow: true,
  });
  const payAllGroup = bill ? payAllGroups(household.data ?? []).find((g) => g.bills.some((b) => b.id === bill.id)) : undefined;

  const pay = async () => {
    if (!bill) return;
    setBusy(true);
    try {
      const { outcome, order } = await payBill(bill.id);
      if (outcome === 'paid' && order) {
        Taro.showToast({ title: '缴费成功', icon: 'success' });
        void nav.redirect(PAGES.paymentDetail, { id: order.id });
      } else if (outcome === 'pending' && order) {
        Taro.showToast({ title: '正在确认支付结果，请稍后查看', icon: 'none' });
      }
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      if (e.code === 'ARREARS_FIRST') setRefusal(e.message);
      if (e.code === 'BILL_ALREADY_PAID' || e.code === 'ARREARS_FIRST') await load();
    } finally {
      setBusy(false);
    }
  };

  if (!bill)
    return (
      <View className='page'>
        <LoadError error={error} onRetry={load} />
      </View>
    );
  return (
    <View className='page'>
      <View className='card'>
        <View className='row'>
          <Text className='card-title'>{bill.seasonLabel}</Text>
          <Text className={bill.status === 'paid' ? 'tag tag-green' : bill.arrears ? 'tag tag-red' : 'tag'}>
            {bill.arrears ? '往年欠费' : BILL_STATUS_LABEL[bill.status]}
          </Text>
        </View>
        <View className='muted'>{bill.address}</View>
        <View className='muted'>
          户号 {bill.accountNo} · {BILL_KIND_LABEL[bill.kind]}
        </View>
      </View>
      <View className='card'>
        <View className='card-title'>费用明细</View>
        {bill.lines.map((l, i) => (
          <View className='list-item row bill-line' key={i}>
            <View>
              <View>{l.label}</View>
              {l.detail ? <View className='muted'>{l.detail}</View> : null}
            </View>
            <Text className={l.amountFen < 0 ? 'amount-minus' : 'strong'}>{formatFen(l.amountFen)}</Text>
          </View>
        ))}
        <View className='row total-row'>
          <Text className='strong'>{bill.status === 'unpaid' ? '应缴金额' : '实缴金额'}</Text>
          <Text className='amount' data-due>
            {formatFen(bill.status === 'unpaid' ? bill.dueFen : bill.paidFen)}
          </Text>
        </View>
        {bill.status === 'unpaid' ? (
          <View className='muted' data-due-note>
            {billDueNote(bill, chinaDate(Date.now()))}
          </View>
        ) : null}
        {refunded.data ? (
          <View className='muted' data-refund-note>
            已退款 {formatFen(refunded.data)}，实缴 {formatFen(bill.paidFen - refunded.data)}
          </View>
        ) : null}
        {bill.paidAt ? <View className='muted'>缴费时间 {formatChinaTime(bill.paidAt)}</View> : null}
      </View>
      {bill.payFirst ? (
        <View className='alert' data-arrears-first>
          <View>{refusal || `请先缴清往年欠费${formatFen(bill.payFirst.dueFen)}（${bill.payFirst.seasonLabel}起），再缴本期账单。`}</View>
          <View
            className='btn btn-primary'
            data-pay-arrears
            onClick={() => {
              setRefusal('');
              void nav.redirect(PAGES.billDetail, { id: bill.payFirst!.billId });
            }}
          >
            先缴往年欠费（{bill.payFirst.seasonLabel}）
          </View>
          {payAllGroup ? <View className='muted'>或一次缴清往年欠费和本期账单：</View> : null}
        </View>
      ) : null}
      {bill.payFirst && payAllGroup ? (
        <PayAllCard
          group={payAllGroup}
          onChange={() => {
            setRefusal('');
            void load();
            void household.reload();
          }}
        />
      ) : !bill.payFirst && bill.status === 'unpaid' && bill.dueFen > 0 ? (
        <View className='btn btn-primary' onClick={busy ? undefined : pay}>
          {busy ? '请稍候…' : `微信支付 ${formatFen(bill.dueFen)}`}
        </View>
      ) : null}
      <View className='muted' style={{ textAlign: 'center', marginTop: '16px' }}>
        对账单有疑问？可在管家群咨询或拨打服务热线
      </View>
    </View>
  );
}
