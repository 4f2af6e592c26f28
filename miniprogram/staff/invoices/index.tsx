import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Picker, Text, View } from '@tarojs/components';
import { chinaDate, formatFen, INVOICE_STATE_LABEL, INVOICE_STATES, type InvoiceView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { invoicesApi } from '../../services/api/invoices';
import { downloadXlsx } from '../../services/download';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { staffPage } from '../../components/staff-page';

/** 发票管理 (finance): a day's invoices by status, failures with the provider's reason, retry, XLSX export. */
export default staffPage(['finance', 'admin'], function StaffInvoices() {
  const today = chinaDate(new Date());
  const [date, setDate] = useState(today);
  // the day picked (China date; picking another loads it)
  const invoices = useData(() => invoicesApi.staffDay({ date }), [date], { onShow: true });
  const day = invoices.data;
  const load = invoices.reload;

  const retry = async (inv: InvoiceView) => {
    try {
      await invoicesApi.retry({ id: inv.id });
      Taro.showToast({ title: '已重新提交', icon: 'success' });
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  const exportXlsx = () => downloadXlsx(invoicesApi.exportDay({ date }), `发票-${date}.xlsx`);

  return (
    <View className='page'>
      <View className='card row'>
        <Picker mode='date' value={date} end={today} onChange={(e) => setDate(String(e.detail.value))}>
          <View className='input' data-invoice-date>
            开票日期 {date}
          </View>
        </Picker>
        <Text className='link' style={{ marginLeft: '12px' }} onClick={() => void load()}>
          刷新
        </Text>
      </View>
      <LoadError error={invoices.error} onRetry={load} />
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
            <Text className={inv.status === 'failed' ? 'tag tag-red' : inv.status === 'issued' ? 'tag tag-green' : 'tag tag-grey'}>
              {INVOICE_STATE_LABEL[inv.status]}
            </Text>
          </View>
          <View className='muted'>
            {inv.titleName}
            {inv.taxId ? ` · ${inv.taxId}` : ''} · 订单 {inv.orderId}
          </View>
          <View className='row'>
            <Text className='muted'>
              {inv.number ?? '—'} · {inv.rateLabel}
            </Text>
            <Text className='amount'>{formatFen(inv.amountFen)}</Text>
          </View>
          {inv.failure ? <View className='alert'>失败原因：{inv.failure}</View> : null}
          {inv.status === 'failed' ? (
            <View className='btn btn-plain' onClick={() => retry(inv)}>
              重新开具
            </View>
          ) : null}
        </View>
      ))}
      {day?.items.length ? (
        <View className='btn btn-plain' onClick={exportXlsx}>
          导出 Excel
        </View>
      ) : null}
    </View>
  );
});
