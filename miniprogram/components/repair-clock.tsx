import Taro from '@tarojs/taro';
import { Picker, Text, View } from '@tarojs/components';
import { chinaDayStart, chinaHm, chinaParts, chinaTime, chinaWhen, type RepairView } from '@heat-butler/shared';
import { ApiError } from '../services/api';
import { repairsApi } from '../services/api/repairs';

/** Visit windows offered when the resident moves the appointment (the server checks quiet hours and the horizon). */
const VISIT_WINDOWS = [
  [8, 10],
  [10, 12],
  [14, 16],
  [16, 18],
] as const;

/** The next visit slots from `now`: today and the next two days, each window starting at least 1 h ahead. */
function visitSlots(now: Date): { start: Date; end: Date; label: string }[] {
  const out: { start: Date; end: Date; label: string }[] = [];
  for (let d = 0; d < 3; d++) {
    const p = chinaParts(chinaDayStart(now, d));
    for (const [h1, h2] of VISIT_WINDOWS) {
      const start = chinaTime(p.year, p.month, p.day, h1);
      const end = chinaTime(p.year, p.month, p.day, h2);
      if (start.getTime() - now.getTime() < 60 * 60_000) continue;
      out.push({ start, end, label: `${chinaWhen(start, now)}-${chinaHm(end)}` });
    }
  }
  return out;
}

/** "10:30 前" / "已于 10:12 完成" / "已超时（应于 10:30 前）", China time. */
function deadlineText(d: RepairView['deadlines'][number], now: Date): string {
  const due = chinaWhen(new Date(d.dueAt), now);
  if (d.state === 'met') return `已于 ${chinaWhen(new Date(d.metAt!), now)} 完成`;
  if (d.state === 'late') return `已于 ${chinaWhen(new Date(d.metAt!), now)} 完成（承诺 ${due} 前）`;
  if (d.state === 'overdue') return `已超时（承诺 ${due} 前）`;
  return `${due} 前`;
}

/**
 * The promises on a resident's ticket: every deadline in China time; once one has passed, no past
 * time is promised: the page says it is overdue and offers 催单 and the hotline; 改约 of the visit.
 */
export function RepairClock({ t, hotline, onChange }: { t: RepairView; hotline: string | null; onChange: (v: RepairView) => void }) {
  const now = new Date();
  const run = async (call: () => Promise<RepairView>, done: string) => {
    try {
      onChange(await call());
      Taro.showToast({ title: done, icon: 'success' });
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };
  const slots = t.reschedule.allowed ? visitSlots(now) : [];
  const missed = t.deadlines.filter((d) => d.state === 'overdue').map((d) => d.label);
  return (
    <View className='card' data-repair-clock>
      <View className='card-title'>服务时限</View>
      {t.overdue ? (
        <View className='alert repair-overdue' data-repair-overdue>
          <View>已超过承诺的{missed.join('、')}时间，非常抱歉，我们正在加急处理。</View>
          {t.urge.allowed ? (
            <View className='btn btn-primary' data-urge onClick={() => void run(() => repairsApi.urge({ id: String(t.id) }), '已催单')}>
              催单
            </View>
          ) : t.urge.nextAt ? (
            <View className='muted' data-urged>
              已催单，{chinaWhen(new Date(t.urge.nextAt), now)} 后可再次催单
            </View>
          ) : null}
          {hotline ? (
            <View className='btn btn-plain' data-call-hotline onClick={() => void Taro.makePhoneCall({ phoneNumber: hotline }).catch(() => undefined)}>
              拨打服务热线 {hotline}
            </View>
          ) : null}
        </View>
      ) : null}
      {t.deadlines.map((d) => (
        <View key={d.kind} className='row list-item' data-deadline={d.kind} data-deadline-state={d.state}>
          <Text>{d.label}</Text>
          <Text className={d.state === 'overdue' ? 'repair-late' : 'muted'}>{deadlineText(d, now)}</Text>
        </View>
      ))}
      {t.slotStart && t.slotEnd ? (
        <View className='muted'>
          预约上门：{chinaWhen(new Date(t.slotStart), now)}-{chinaHm(new Date(t.slotEnd))}
        </View>
      ) : null}
      {slots.length ? (
        <Picker
          mode='selector'
          range={slots.map((s) => s.label)}
          onChange={(e) => {
            const s = slots[Number(e.detail.value)];
            if (!s) return;
            void Taro.showModal({
              title: '修改预约上门时间？',
              content: `改为 ${s.label}。预约时间只能修改${t.reschedule.left}次，且须提前${t.reschedule.noticeMinutes}分钟。`,
            }).then((r) => {
              if (r.confirm)
                void run(() => repairsApi.reschedule({ id: String(t.id) }, { slotStart: s.start.toISOString(), slotEnd: s.end.toISOString() }), '已改约');
            });
          }}
        >
          <Text className='link' data-reschedule>
            {t.slotStart ? '修改预约时间' : '预约上门时间'}
          </Text>
        </Picker>
      ) : null}
    </View>
  );
}
