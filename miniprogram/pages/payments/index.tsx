import { Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen, paymentItemLabel } from '@heat-butler/shared';
import { paymentsApi } from '../../services/api/billing';
import { nav, PAGES } from '../../services/pages';
import { ensureResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';

/** 缴费记录: paid orders, newest first, with refunds. */
export default function Payments() {
  const payments = useData(async () => ((await ensureResident()) ? paymentsApi.list() : undefined), [], { onShow: true });
  const list = payments.data;
  return (
    <View className='page'>
      <LoadError error={payments.error} onRetry={payments.reload} />
      {list && !list.items.length ? <Empty>暂无缴费记录</Empty> : null}
      {list?.items.map((o) => (
        <View className='card payment-card' key={o.id} data-out-trade-no={o.outTradeNo} onClick={() => nav.to(PAGES.paymentDetail, { id: o.id })}>
          <View className='row'>
            <Text className='strong'>{paymentItemLabel(o)}</Text>
            <Text className='amount'>{formatFen(o.amountFen)}</Text>
          </View>
          <View className='muted'>
            户号 {o.accountNo} · {o.paidAt ? formatChinaTime(o.paidAt) : ''}
          </View>
          {o.refundedFen ? <View className='muted refund-note'>已退款 {formatFen(o.refundedFen)}</View> : null}
          {o.duplicate ? <View className='notice'>该账单已由其他订单缴清，本次支付已自动原路退回</View> : null}
        </View>
      ))}
    </View>
  );
}
