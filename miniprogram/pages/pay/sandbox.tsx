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
import { confirmOrder, createOrder } from '../../services/pay';
import { nav, PAGES } from '../../services/pages';

export default function SandboxPay() {
  const { params } = useRouter();
  const [order, setOrder] = useState<PaymentOrderView | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    createOrder(Number(params.billId))
      .then(setOrder)
      .catch(() => Taro.navigateBack());
  }, [params.billId]);

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
