import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatChinaTime, formatFen, type PaymentList } from '@heat-butler/shared';
import { api } from '../../services/api';
import { ensureResident } from '../../services/session';
import { Empty } from '../../components/ui';

/** 缴费记录: paid orders, newest first, with refunds. */
export default function Payments() {
  const [list, setList] = useState<PaymentList | null>(null);
  useDidShow(() => {
    void (async () => {
      if (!(await ensureResident())) return;
      setList(await api.get<PaymentList>('/api/v1/payments'));
    })().catch(() => undefined); // the request has already shown why (toast)
  });
  return (
    <View className='page'>
      {list && !list.items.length ? <Empty>暂无缴费记录</Empty> : null}
      {list?.items.map((o) => (
        <View className='card payment-card' key={o.id} data-out-trade-no={o.outTradeNo} onClick={() => Taro.navigateTo({ url: `/pages/payments/detail?id=${o.id}` })}>
          <View className='row'>
            <Text className='strong'>{o.seasonLabel}热费</Text>
            <Text className='amount'>{formatFen(o.amountFen)}</Text>
          </View>
          <View className='muted'>户号 {o.accountNo} · {o.paidAt ? formatChinaTime(o.paidAt) : ''}</View>
          {o.refundedFen ? <View className='muted refund-note'>已退款 {formatFen(o.refundedFen)}</View> : null}
          {o.duplicate ? <View className='notice'>该账单已由其他订单缴清，本次支付已自动原路退回</View> : null}
        </View>
      ))}
    </View>
  );
}
