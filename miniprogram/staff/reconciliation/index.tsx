import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import {
  fenToYuanString,
  RESOLUTION_TYPE_LABELS,
  RESOLUTION_TYPES,
  type DiscrepancyView,
  type ReconDayDetail,
  type ReconDayView,
  type ResolutionType,
} from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty } from '../../components/ui';

const yuan = (fen: number | undefined) => (fen === undefined ? '-' : `${fenToYuanString(fen)}元`);
const CHOICES = RESOLUTION_TYPES.filter((r) => r !== 'cleared_on_rerun') as ResolutionType[];
const TAG: Record<string, string> = { balanced: 'tag tag-green', differences: 'tag tag-red' };

/** 对账 (finance; admin reads): days with 未对账 / 有差异 / 已平, a day's report, differences to resolve. */
export default function Reconciliation() {
  const [days, setDays] = useState<ReconDayView[] | null>(null);
  const [day, setDay] = useState<ReconDayDetail | null>(null);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState<Record<number, { resolution: ResolutionType; note: string }>>({});

  const loadDays = () => api.get<{ items: ReconDayView[] }>('/api/v1/staff/reconciliation/days').then((r) => setDays(r.items)).catch(() => undefined);
  const openDay = (date: string) => api.get<ReconDayDetail>(`/api/v1/staff/reconciliation/days/${date}`).then(setDay).catch(() => undefined);
  useDidShow(() => void loadDays());

  const run = async (date: string) => {
    setBusy(true);
    try {
      setDay(await api.post<ReconDayDetail>('/api/v1/staff/reconciliation/runs', { date }));
      await loadDays();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(false);
    }
  };

  const resolve = async (d: DiscrepancyView) => {
    const f = form[d.id];
    if (!f?.note?.trim()) return Taro.showToast({ title: '请填写处理说明', icon: 'none' });
    try {
      await api.post(`/api/v1/staff/reconciliation/discrepancies/${d.id}/resolve`, { resolution: f.resolution, note: f.note });
      await openDay(d.billDate);
      await loadDays();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  if (day) {
    const w = day.wechat;
    return (
      <View className='page'>
        <View className='row'>
          <View className='btn btn-plain' onClick={() => setDay(null)}>返回列表</View>
          <View className={`btn btn-primary${busy ? ' btn-disabled' : ''}`} onClick={() => !busy && run(day.billDate)}>{day.runs ? '重新对账' : '对账'}</View>
        </View>
        <View className='card'>
          <View className='row'>
            <Text className='card-title'>{day.billDate}</Text>
            <Text className={TAG[day.status] ?? 'tag tag-grey'}>{day.statusLabel}</Text>
          </View>
          {day.lastError ? <View className='recon-error'>最近一次失败：{day.lastError}</View> : null}
          {w ? (
            <View>
              <View className='muted'>微信账单：收款 {w.paymentCount} 笔 {yuan(w.paymentFen)}，退款 {w.refundCount} 笔 {yuan(w.refundFen)}，手续费 {yuan(w.feeFen)}，净额 {yuan(w.netFen)}</View>
              <View className='muted'>台账：收款 {day.ledger?.paymentCount} 笔 {yuan(day.ledger?.paymentFen)}，退款 {day.ledger?.refundCount} 笔 {yuan(day.ledger?.refundFen)}</View>
              <View className='muted'>账单汇总核对：{day.emptyBill ? '当日无交易（无账单）' : day.summaryMatches ? '一致' : '不一致'}</View>
              {day.classes ? (
                <View className='muted'>
                  一致 {day.classes.matched} · 自愈 {day.healed.length} · 在途退款 {day.classes.inTransit} · 差异 {day.openDiscrepancies}/{day.totalDiscrepancies}（未处理/全部）
                </View>
              ) : null}
            </View>
          ) : null}
        </View>
        {day.healed.length ? (
          <View className='card'>
            <View className='card-title'>已自动补记（通知丢失）</View>
            {day.healed.map((h) => (
              <View className='muted' key={h.ref}>{h.outTradeNo} {yuan(h.amountFen)}</View>
            ))}
          </View>
        ) : null}
        {day.discrepancies.map((d) => (
          <View className='card' key={d.id} data-discrepancy-id={d.id}>
            <View className='row'>
              <Text className='card-title'>{d.kindLabel} · {d.outRefundNo || d.outTradeNo || '汇总'}</Text>
              <Text className={d.status === 'open' ? 'tag tag-red' : 'tag tag-green'}>{d.status === 'open' ? '待处理' : RESOLUTION_TYPE_LABELS[d.resolution!]}</Text>
            </View>
            <View className='muted'>差额：{yuan(d.diffFen)}</View>
            <View className='muted'>微信：{d.wechat ? JSON.stringify(d.wechat) : '无'}</View>
            <View className='muted'>台账：{d.ledger ? JSON.stringify(d.ledger) : '无'}</View>
            {d.status === 'resolved' ? (
              <View className='muted'>{d.resolvedBy} {d.resolvedAt?.slice(0, 16).replace('T', ' ')}：{d.note}</View>
            ) : (
              <View>
                <View className='recon-chips'>
                  {CHOICES.map((c) => (
                    <Text
                      key={c}
                      className={`recon-chip${(form[d.id]?.resolution ?? 'ledger_corrected') === c ? ' recon-chip-on' : ''}`}
                      onClick={() => setForm({ ...form, [d.id]: { note: form[d.id]?.note ?? '', resolution: c } })}
                    >
                      {RESOLUTION_TYPE_LABELS[c]}
                    </Text>
                  ))}
                </View>
                <Input
                  className='input'
                  placeholder='处理说明（必填）'
                  value={form[d.id]?.note ?? ''}
                  onInput={(e) => setForm({ ...form, [d.id]: { resolution: form[d.id]?.resolution ?? 'ledger_corrected', note: e.detail.value } })}
                />
                <View className='btn btn-primary' onClick={() => resolve(d)}>标记已处理</View>
              </View>
            )}
          </View>
        ))}
      </View>
    );
  }

  return (
    <View className='page'>
      {days && !days.length ? <Empty>没有可对账的日期</Empty> : null}
      {days?.map((d) => (
        <View className='list-item row' key={d.billDate} data-bill-date={d.billDate} onClick={() => (d.status === 'none' ? run(d.billDate) : openDay(d.billDate))}>
          <Text>{d.billDate}</Text>
          <Text className='muted'>{d.wechat ? `收 ${yuan(d.wechat.paymentFen)} / 退 ${yuan(d.wechat.refundFen)}` : ''}</Text>
          <Text className={TAG[d.status] ?? 'tag tag-grey'}>{d.statusLabel}{d.openDiscrepancies ? ` ${d.openDiscrepancies}` : ''}</Text>
        </View>
      ))}
    </View>
  );
}
