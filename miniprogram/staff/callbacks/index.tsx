import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { formatChinaTime, formatMinutesLeft, minutesLeftState, type StaffRepairView } from '@heat-butler/shared';
import { api, ApiError } from '../../services/api';
import { Empty } from '../../components/ui';

interface CallbackTask {
  id: number;
  ticketId: number;
  scheduledAt: string;
  dueAt: string;
  minutesLeft: number | null;
  ticket?: StaffRepairView;
}
type Outcome = 'satisfied' | 'unsatisfied' | 'unreachable';
const OUTCOMES: { value: Outcome; label: string; cls: string }[] = [
  { value: 'satisfied', label: '满意', cls: 'btn btn-primary' },
  { value: 'unsatisfied', label: '不满意（重新派单）', cls: 'btn btn-danger' },
  { value: 'unreachable', label: '未接通', cls: 'btn btn-plain' },
];

/** 维修回访 (agents): closed tickets to call back within 24 h; the list is empty 20:00–08:00 (no calls then). */
export default function StaffCallbacks() {
  const [data, setData] = useState<{ items: CallbackTask[]; quiet?: boolean } | null>(null);
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [busy, setBusy] = useState<number | null>(null);
  const [loadError, setLoadError] = useState('');
  const load = () =>
    api
      .get<{ items: CallbackTask[]; quiet?: boolean }>('/api/v1/staff/repairs/callbacks', { quiet: true })
      .then(setData)
      .catch((e) => setLoadError(e instanceof ApiError ? e.message : '加载失败，请稍后再试'));
  useDidShow(() => void load());

  const done = async (c: CallbackTask, outcome: Outcome) => {
    if (busy) return;
    const note = (notes[c.id] ?? '').trim();
    if (outcome === 'unsatisfied' && note.length < 2) return void Taro.showToast({ title: '请记录住户不满意的原因', icon: 'none' });
    setBusy(c.id);
    try {
      await api.post(`/api/v1/staff/repairs/callbacks/${c.id}`, { outcome, ...(note ? { notes: note.slice(0, 300) } : {}) });
      Taro.showToast({ title: outcome === 'unsatisfied' ? '已重新派单' : '已记录', icon: 'success' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(null);
      await load();
    }
  };

  return (
    <View className='page'>
      {!data && loadError ? <Empty>{loadError}</Empty> : null}
      {data?.quiet ? <View className='card muted' data-callbacks-quiet>20:00–08:00 不打扰住户，回访任务 08:00 后显示。</View> : null}
      {data && !data.quiet && !data.items.length ? <Empty>暂无待回访的工单</Empty> : null}
      {data?.items.map((c) => (
        <View className='card' key={c.id} data-callback-id={c.id}>
          <View className='row'>
            <Text className='card-title'>{c.ticket ? `${c.ticket.emergency ? '【紧急】' : ''}${c.ticket.categoryLabel}` : `工单 ${c.ticketId}`}</Text>
            <Text className={minutesLeftState(c.minutesLeft) === 'overdue' ? 'tag tag-red' : 'tag'}>{formatMinutesLeft(c.minutesLeft)}</Text>
          </View>
          {c.ticket ? (
            <View>
              <View className='muted'>{c.ticket.no} · {c.ticket.address}</View>
              <View className='muted'>电话 {c.ticket.contactPhone} · 维修人员 {c.ticket.assigneeName ?? '—'} · {c.ticket.statusLabel}</View>
              {c.ticket.resolution ? <View className='repair-desc'>处理：{c.ticket.resolution}</View> : null}
              {c.ticket.rating !== null ? <View className='muted'>住户评价：{'★'.repeat(c.ticket.rating)}{c.ticket.ratingComment ? ` ${c.ticket.ratingComment}` : ''}</View> : null}
            </View>
          ) : null}
          <View className='muted'>回访截止 {formatChinaTime(c.dueAt)}</View>
          <Textarea className='input repair-textarea' data-callback-notes value={notes[c.id] ?? ''} maxlength={300} placeholder='回访记录（不满意时必填）' onInput={(e) => setNotes({ ...notes, [c.id]: e.detail.value })} />
          {OUTCOMES.map((o) => (
            <View key={o.value} className={o.cls} data-outcome={o.value} onClick={() => done(c, o.value)}>{busy === c.id ? '提交中…' : o.label}</View>
          ))}
        </View>
      ))}
    </View>
  );
}
