import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Text, Textarea, View } from '@tarojs/components';
import { formatChinaTime, formatMinutesLeft, minutesLeftState, type CallbackTask, type StaffRepairView } from '@heat-butler/shared';
import { ApiError } from '../../services/api';
import { repairsApi } from '../../services/api/repairs';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { staffPage } from '../../components/staff-page';
type Outcome = 'satisfied' | 'unsatisfied' | 'unreachable';
const OUTCOMES: { value: Outcome; label: string; cls: string }[] = [
  { value: 'satisfied', label: '满意', cls: 'btn btn-primary' },
  { value: 'unsatisfied', label: '不满意（重新派单）', cls: 'btn btn-danger' },
  { value: 'unreachable', label: '未接通（稍后再打）', cls: 'btn btn-plain' },
];

/** 维修回访 (agents): closed tickets to call back within 24 h; the list is empty 20:00–08:00 (no calls then); 未接通 comes back later. */
export default staffPage(['agent', 'admin'], function StaffCallbacks() {
  const [notes, setNotes] = useState<Record<number, string>>({});
  const [busy, setBusy] = useState<number | null>(null);
  const callbacks = useData(() => repairsApi.callbacks({ quiet: true }), [], { onShow: true });
  const data = callbacks.data;
  const load = callbacks.reload;

  const done = async (c: CallbackTask, outcome: Outcome) => {
    if (busy) return;
    const note = (notes[c.id] ?? '').trim();
    if (outcome === 'unsatisfied' && note.length < 2) return void Taro.showToast({ title: '请记录住户不满意的原因', icon: 'none' });
    setBusy(c.id);
    try {
      const r = await repairsApi.callbackDone({ id: c.id }, { outcome, ...(note ? { notes: note.slice(0, 300) } : {}) });
      // 未接通: the task stays, to be called again later (the company's retry interval)
      const title = r.retryAt ? `${formatChinaTime(r.retryAt).slice(5)} 再次回访` : outcome === 'unsatisfied' ? '已重新派单' : '已记录';
      Taro.showToast({ title, icon: r.retryAt ? 'none' : 'success' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(null);
      await load();
    }
  };

  return (
    <View className='page'>
      <LoadError error={callbacks.error} onRetry={load} />
      {data?.quiet ? (
        <View className='card muted' data-callbacks-quiet>
          20:00–08:00 不打扰住户，回访任务 08:00 后显示。
        </View>
      ) : null}
      {data && !data.quiet && !data.items.length ? <Empty>暂无待回访的工单</Empty> : null}
      {data?.items
        .map((c) => ({ ...c, ticket: c.ticket as StaffRepairView | undefined }))
        .map((c) => (
          <View className='card' key={c.id} data-callback-id={c.id}>
            <View className='row'>
              <Text className='card-title'>{c.ticket ? `${c.ticket.emergency ? '【紧急】' : ''}${c.ticket.categoryLabel}` : `工单 ${c.ticketId}`}</Text>
              <Text className={minutesLeftState(c.minutesLeft) === 'overdue' ? 'tag tag-red' : 'tag'}>{formatMinutesLeft(c.minutesLeft)}</Text>
            </View>
            {c.ticket ? (
              <View>
                <View className='muted'>
                  {c.ticket.no} · {c.ticket.address}
                </View>
                <View className='muted'>
                  电话 {c.ticket.contactPhone} · 维修人员 {c.ticket.assigneeName ?? '—'} · {c.ticket.statusLabel}
                </View>
                {c.ticket.resolution ? <View className='repair-desc'>处理：{c.ticket.resolution}</View> : null}
                {c.ticket.rating !== null ? (
                  <View className='muted'>
                    住户评价：{'★'.repeat(c.ticket.rating)}
                    {c.ticket.ratingComment ? ` ${c.ticket.ratingComment}` : ''}
                  </View>
                ) : null}
              </View>
            ) : null}
            <View className='muted'>
              回访截止 {formatChinaTime(c.dueAt)}
              {c.attempts ? ` · 已拨打 ${c.attempts} 次未接通` : ''}
            </View>
            <Textarea
              className='input repair-textarea'
              data-callback-notes
              value={notes[c.id] ?? ''}
              maxlength={300}
              placeholder='回访记录（不满意时必填）'
              onInput={(e) => setNotes({ ...notes, [c.id]: e.detail.value })}
            />
            {OUTCOMES.map((o) => (
              <View key={o.value} className={o.cls} data-outcome={o.value} onClick={() => done(c, o.value)}>
                {busy === c.id ? '提交中…' : o.label}
              </View>
            ))}
          </View>
        ))}
    </View>
  );
});
