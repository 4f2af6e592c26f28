import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import { chinaDate, formatFen, INVOICE_STATE_LABEL, INVOICE_STATES, type InvoiceView } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { downloadXlsx } from '../../services/download';
import { Empty } from '../../components/ui';

type Day = { date: string; counts: Record<string, number>; items: InvoiceView[] };

/** 发票管理 (finance): a day's invoices by status, failures with the provider's reason, retry, XLSX export. */
export default function StaffInvoices() {
  const [date, setDate] = useState(chinaDate(new Date()));
  const [day, setDay] = useState<Day | null>(null);

  const load = (d = date) => api.get<Day>(`/api/v1/staff/invoices?date=${d}`).then(setDay).catch(() => undefined); // the request has already shown why (toast)
  useDidShow(() => void load());

  const retry = async (inv: InvoiceView) => {
    try {
      await api.post(`/api/v1/staff/invoices/${inv.id}/retry`);
      Taro.showToast({ title: '已重新提交', icon: 'success' });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  const exportXlsx = () => downloadXlsx(`/api/v1/staff/invoices/export?date=${date}`, `发票-${date}.xlsx`);


  return (
    <View className='page'>
      <View className='card row'>
        <Input className='input' value={date} onInput={(e) => setDate(e.detail.value)} placeholder='YYYY-MM-DD' />
        <Text className='link' style={{ marginLeft: '12px' }} onClick={() => load(date)}>查看</Text>
      </View>
      {day ? (
        <View className='card row'>
          {INVOICE_STATES.map((s) => (
            <View key={s} style={{ textAlign: 'center' }}>
              <View className='strong'>{day.counts[s] ?? 0}</View>
              <View className='muted'>{INVOICE_STATE_LABEL[s]}</View>
            </View>
          ))}
        </View>
      ) : null}
      {day && !day.items.length ? <Empty>当日没有发票</Empty> : null}
      {day?.items.map((inv) => (
        <View className='card' key={inv.id}>
          <View className='row'>
            <Text className='strong'>{inv.typeLabel}</Text>
            <Text className={inv.status === 'failed' ? 'tag tag-red' : inv.status === 'issued' ? 'tag tag-green' : 'tag tag-grey'}>{INVOICE_STATE_LABEL[inv.status]}</Text>
          </View>
          <View className='muted'>{inv.titleName}{inv.taxId ? ` · ${inv.taxId}` : ''} · 订单 {inv.orderId}</View>
          <View className='row'>
            <Text className='muted'>{inv.number ?? '—'} · {inv.rateLabel}</Text>
            <Text className='amount'>{formatFen(inv.amountFen)}</Text>
          </View>
          {inv.failure ? <View className='alert'>失败原因：{inv.failure}</View> : null}
          {inv.status === 'failed' ? <View className='btn btn-plain' onClick={() => retry(inv)}>重新开具</View> : null}
        </View>
      ))}
      {day?.items.length ? <View className='btn btn-plain' onClick={exportXlsx}>导出 Excel</View> : null}
    </View>
  );
}
