import { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import {
  formatChinaTime,
  formatFen,
  INVOICE_STATE_LABEL,
  ORDER_STATE_LABEL,
  paymentItemLabel,
  REFUND_KIND_LABEL,
  REFUND_STATE_LABEL,
} from '@heat-butler/shared';
import { paymentsApi } from '../../services/api/billing';
import { invoicesApi } from '../../services/api/invoices';
import { nav, PAGES } from '../../services/pages';
import { useData } from '../../services/use-data';
import { LoadError } from '../../components/ui';

/** 缴费凭证: the receipt of one payment, with its refunds. */
export default function PaymentDetail() {
  const { params } = useRouter();
  const { data: o, error, reload } = useData(() => paymentsApi.get({ orderId: params.id! }), [], { onShow: true });
  // this payment's current invoice (the latest blue one): once there is one, link to it instead of 申请
  const invoice = useData(
    async () =>
      (await invoicesApi.list({ quiet: true })).items.find((i) => i.orderId === Number(params.id) && i.direction === 'blue' && i.status !== 'reversed') ?? null,
    [],
    { onShow: true },
  );
  if (!o)
    return (
      <View className='page'>
        <LoadError error={error} onRetry={reload} />
      </View>
    );
  const rows: [string, string][] = [
    ['缴费项目', paymentItemLabel(o)],
    // 一键缴清: what each bill got
    ...(o.bills.length > 1 ? o.bills.map((b): [string, string] => [b.seasonLabel, formatFen(b.amountFen)]) : []),
    ['户号', o.accountNo],
    ['地址', o.address],
    ['支付方式', '微信支付'],
    ['支付时间', o.paidAt ? formatChinaTime(o.paidAt, true) : '—'],
    ...(o.refundedFen > 0
      ? ([
          ['已退款', formatFen(o.refundedFen)],
          ['实缴金额', formatFen(o.amountFen - o.refundedFen)],
        ] as [string, string][])
      : []),
    ['商户订单号', o.outTradeNo],
    ['微信支付单号', o.transactionId ?? '—'],
  ];
  return (
    <View className='page'>
      <View className='card receipt'>
        <View className='receipt-title'>缴费凭证</View>
        <View className='pay-amount' data-receipt-amount>
          {formatFen(o.amountFen)}
        </View>
        <View className='receipt-state'>{ORDER_STATE_LABEL[o.status]}</View>
        {rows.map(([k, v]) => (
          <View className='row list-item' key={k}>
            <Text className='muted'>{k}</Text>
            <Text className='receipt-value'>{v}</Text>
          </View>
        ))}
      </View>
      {invoice.data ? (
        <View className='btn btn-plain' data-receipt-invoice onClick={() => nav.to(PAGES.invoices)}>
          查看电子发票（{INVOICE_STATE_LABEL[invoice.data.status]}）
        </View>
      ) : o.status === 'paid' && !o.duplicate && o.refundedFen < o.amountFen && (invoice.data === null || !!invoice.error) ? (
        <View className='btn btn-plain' onClick={() => nav.to(PAGES.invoiceRequest, { orderId: o.id })}>
          申请电子发票
        </View>
      ) : null}
      {o.duplicate ? <View className='notice'>该账单已由其他订单缴清，本次支付已自动原路退回，到账时间以微信通知为准。</View> : null}
      {o.refunds.length ? (
        <View className='card'>
          <View className='card-title'>退款记录</View>
          {o.refunds.map((r) => (
            <View className='list-item' key={r.id}>
              <View className='row'>
                <Text>{REFUND_KIND_LABEL[r.kind]}</Text>
                <Text className='strong'>{formatFen(r.amountFen)}</Text>
              </View>
              <View className='muted'>
                {r.reason}
                {r.rulingRef ? `（裁定单 ${r.rulingRef}）` : ''}
              </View>
              <View className='muted'>
                {REFUND_STATE_LABEL[r.status]} · {formatChinaTime(r.succeededAt ?? r.createdAt)}
              </View>
            </View>
          ))}
        </View>
      ) : null}
    </View>
  );
}
