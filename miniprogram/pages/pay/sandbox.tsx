/**
 * H5 only: the sandbox's stand-in for WeChat's payment sheet. It shows what WeChat would show
 * (payee, description, amount) and confirms or cancels against the local WeChat Pay simulator,
 * which checks paySign exactly like WeChat and then notifies the BFF.
 */
import { useEffect, useState } from 'react';
import Taro, { useRouter } from '@tarojs/taro';
import { Text, View } from '@tarojs/components';
import { formatFen, type PaymentOrderView } from '@heat-butler/shared';
import { api } from '../../services/api';
import { confirmOrder, createOrder, createPayAllOrder } from '../../services/pay';
import { nav, PAGES } from '../../services/pages';

export default function SandboxPay() {
  const { params } = useRouter();
  const [order, setOrder] = useState<PaymentOrderView | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    // one bill, or 一键缴清 (an account and the bills the page showed)
    const create = params.billIds
      ? createPayAllOrder(Number(params.accountId), decodeURIComponent(params.billIds).split(',').map(Number))
      : createOrder(Number(params.billId));
    create.then(setOrder).catch(() => Taro.navigateBack());
  }, [params.billId, params.accountId, params.billIds]);

  const act = async (action: 'confirm' | 'cancel') => {
    if (!order?.requestPayment) return;
    setBusy(true);
    const user = Taro.getStorageSync('hb.sandboxUser') || 'demo-resident';
    const res = await api.post<{ errMsg: string; reason?: string }>(
      '/sandbox/device/pay',
      { ...order.requestPayment, user, action },
      { anonymous: true, quiet: true },
    );
    const after = await confirmOrder(order.id).catch(() => order);
    setBusy(false);
    if (after.status === 'paid') {
      Taro.showToast({ title: '缴费成功', icon: 'success' });
      void nav.redirect(PAGES.paymentDetail, { id: after.id });
    } else if (action === 'cancel') {
      Taro.navigateBack();
    } else {
      setError(res.reason ?? '支付未完成，请重试');
    }
  };

  return (
    <View className='page'>
      <View className='sandbox-banner'>沙箱环境：此页面模拟微信支付收银台，不会产生真实扣款</View>
      {order ? (
        <View className='card pay-sheet'>
          <View className='muted' style={{ textAlign: 'center' }}>
            {order.description}
          </View>
          <View className='pay-amount' data-pay-amount>
            {formatFen(order.amountFen)}
          </View>
          {order.bills.length > 1
            ? order.bills.map((b) => (
                <View className='row list-item' key={b.billId} data-pay-bill={b.season}>
                  <Text className='muted'>{b.seasonLabel}</Text>
                  <Text>{formatFen(b.amountFen)}</Text>
                </View>
              ))
            : null}
          <View className='row list-item'>
            <Text className='muted'>收款方</Text>
            <Text>供热公司（沙箱商户）</Text>
          </View>
          <View className='row list-item'>
            <Text className='muted'>订单号</Text>
            <Text className='muted'>{order.outTradeNo}</Text>
          </View>
          {error ? <View className='alert'>{error}</View> : null}
          <View className='btn btn-wechat' onClick={busy ? undefined : () => act('confirm')}>
            确认支付
          </View>
          <View className='btn btn-plain' onClick={busy ? undefined : () => act('cancel')}>
            取消
          </View>
        </View>
      ) : null}
    </View>
  );
}
