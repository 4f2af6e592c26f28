import { useState } from 'react';
import Taro from '@tarojs/taro';
import { Switch, Text, View } from '@tarojs/components';
import {
  chinaDayStart,
  chinaHm,
  chinaDate,
  chinaParts,
  chinaTime,
  formatChinaTime,
  MEASUREMENT_PROTOCOL_TEXT,
  toChinaISO,
  type MeasurementState,
  type MeasurementView,
  type TimeWindow,
} from '@heat-butler/shared';
import { ApiError, getSessionKind, getToken } from '../../services/api';
import { accountsApi } from '../../services/api/accounts';
import { measurementsApi, repairsApi } from '../../services/api/repairs';
import { isResident } from '../../services/session';
import { useData } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { MeasurementReadings } from '../../components/measurement';

const STATUS: Record<MeasurementState, string> = { booked: '已预约', recorded: '已测温', ruled: '已裁定', cancelled: '已取消' };
/** Half-hour start times inside the windows for a China day (its midnight), only those still ahead. */
function slotsOf(day: Date, windows: TimeWindow[], now: Date): Date[] {
  const out: Date[] = [];
  const d = chinaParts(day);
  for (const w of windows) {
    const [sh = 0, sm = 0] = w.start.split(':').map(Number);
    const [eh = 0, em = 0] = w.end.split(':').map(Number);
    const end = chinaTime(d.year, d.month, d.day, eh, em).getTime();
    for (let t = chinaTime(d.year, d.month, d.day, sh, sm).getTime(); t < end; t += 30 * 60_000) if (t > now.getTime()) out.push(new Date(t));
  }
  return out;
}

/** 预约测温: book a visit inside the company's measurement windows; see readings and compliance. */
export default function Measurements() {
  const loggedIn = !!getToken() && getSessionKind() === 'resident';
  const [accountId, setAccountId] = useState<number | null>(null);
  const [dayOffset, setDayOffset] = useState(0);
  const [slot, setSlot] = useState<string | null>(null);
  const [threeParty, setThreeParty] = useState(false);
  const [busy, setBusy] = useState(false);
  /** the booking being moved (改约): the form then sets its new time */
  const [moving, setMoving] = useState<MeasurementView | null>(null);

  // the accounts to book for and the windows to book in; then the bookings
  const setup = useData(
    async () => {
      const [bound, options] = await Promise.all([accountsApi.list(), repairsApi.options()]);
      if (bound.items[0] && accountId === null) setAccountId(bound.items[0].accountId);
      return { accounts: bound.items, windows: options.measurementWindows };
    },
    [],
    { onShow: true, enabled: isResident },
  );
  const bookings = useData(() => measurementsApi.list(), [], { onShow: true, enabled: isResident });
  const accounts = setup.data?.accounts ?? [];
  const windows = setup.data?.windows ?? [];
  const items = bookings.data?.items;
  const load = bookings.reload;

  if (!loggedIn)
    return (
      <View className='page'>
        <Empty>登录后预约测温</Empty>
      </View>
    );
  const now = new Date();
  const days = [0, 1, 2, 3, 4, 5, 6].map((i) => chinaDayStart(now, i));
  const slots = slotsOf(days[dayOffset]!, windows, now);
  const forAccount = moving ? moving.accountId : accountId;
  // one visit a day per household: days it already has one (other than the one being moved)
  const takenDays = new Set(
    (items ?? []).filter((m) => m.status !== 'cancelled' && m.accountId === forAccount && m.id !== moving?.id).map((m) => chinaDate(m.scheduledAt)),
  );
  const dayTaken = takenDays.has(chinaDate(days[dayOffset]!));

  const submit = async () => {
    if (!forAccount || !slot || busy || dayTaken) return;
    setBusy(true);
    try {
      if (moving) await measurementsApi.reschedule({ id: moving.id }, { scheduledAt: slot }, { quiet: true });
      else await measurementsApi.book({ accountId: forAccount, scheduledAt: slot, threeParty }, { quiet: true });
      Taro.showToast({ title: moving ? '已改约' : '预约成功', icon: 'success' });
      setSlot(null);
      setMoving(null);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      // a dialog, not a toast: the reason (a day already booked, a time outside the windows) must be read
      await Taro.showModal({ title: moving ? '改约失败' : '预约失败', content: e.message, showCancel: false, confirmText: '知道了' });
    } finally {
      setBusy(false);
    }
  };

  const cancel = async (m: MeasurementView) => {
    const { confirm } = await Taro.showModal({
      title: '取消测温预约',
      content: `确定取消 ${formatChinaTime(m.scheduledAt)} 的上门测温吗？取消后可重新预约。`,
      confirmText: '取消预约',
      cancelText: '不取消',
      confirmColor: '#c92a2a',
    });
    if (!confirm) return;
    try {
      await measurementsApi.cancel({ id: m.id }, { quiet: true });
      Taro.showToast({ title: '已取消预约', icon: 'success' });
      if (moving?.id === m.id) setMoving(null);
      await load();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      await Taro.showModal({ title: '取消失败', content: e.message, showCancel: false, confirmText: '知道了' });
    }
  };

  return (
    <View className='page'>
      <LoadError error={setup.error ?? bookings.error} onRetry={() => void Promise.all([setup.reload(), bookings.reload()])} />
      <View className='card' data-measure-book>
        <View className='card-title'>{moving ? `改约 · 单号 ${moving.no}` : '预约上门测温'}</View>
        {moving ? (
          <View className='muted' data-moving>
            原预约 {formatChinaTime(moving.scheduledAt)}，请选择新的日期和时间。
            <Text className='link' onClick={() => (setMoving(null), setSlot(null))}>
              放弃改约
            </Text>
          </View>
        ) : null}
        <View className='muted'>
          测温时段：{windows.map((w) => `${w.start}–${w.end}`).join('、')}。测温规范：{MEASUREMENT_PROTOCOL_TEXT}。
        </View>
        {accounts.length > 1 && !moving ? (
          <View className='repair-cats'>
            {accounts.map((a) => (
              <View key={a.accountId} className={`tag ${a.accountId === accountId ? '' : 'tag-grey'} repair-cat`} onClick={() => setAccountId(a.accountId)}>
                {a.accountNo}
              </View>
            ))}
          </View>
        ) : null}
        <View className='field-label'>日期</View>
        <View className='repair-cats'>
          {days.map((d, i) => (
            <View
              key={i}
              data-day={i}
              className={`tag ${i === dayOffset ? '' : 'tag-grey'} repair-cat`}
              onClick={() => {
                setDayOffset(i);
                setSlot(null);
              }}
            >
              {i === 0 ? '今天' : i === 1 ? '明天' : `${chinaParts(d).month}月${chinaParts(d).day}日`}
              {takenDays.has(chinaDate(d)) ? '（已约）' : ''}
            </View>
          ))}
        </View>
        <View className='field-label'>时间</View>
        {dayTaken ? (
          <View className='muted' data-day-taken>
            这一天已有测温预约，同一天只能预约一次；如需换时间，请在下方预约记录中点“改约”。
          </View>
        ) : slots.length ? (
          <View className='repair-cats'>
            {slots.map((s) => (
              <View
                key={s.getTime()}
                data-slot={chinaHm(s)}
                className={`tag ${slot === toChinaISO(s) ? '' : 'tag-grey'} repair-cat`}
                onClick={() => setSlot(toChinaISO(s))}
              >
                {chinaHm(s)}
              </View>
            ))}
          </View>
        ) : (
          <View className='muted'>当天已无可预约时段</View>
        )}
        {moving ? null : (
          <View className='row repair-urgent'>
            <Text>申请三方测温（供热公司、住户、社区共同见证，用于退费认定）</Text>
            <Switch checked={threeParty} onChange={(e) => setThreeParty(e.detail.value)} />
          </View>
        )}
        <View className={`btn btn-primary ${slot && !dayTaken ? '' : 'btn-disabled'}`} data-submit-measure onClick={submit}>
          {busy ? '提交中…' : moving ? '确认改约' : '提交预约'}
        </View>
      </View>
      {items && !items.length ? <Empty>还没有测温记录</Empty> : null}
      {items?.map((m) => (
        <View className='card' key={m.id} data-measurement-id={m.id}>
          <View className='row'>
            <Text className='card-title'>{m.threeParty ? '三方测温' : '上门测温'}</Text>
            <Text className={m.compliance === 'below_legal' ? 'tag tag-red' : m.compliance === 'ok' ? 'tag tag-green' : 'tag'}>{STATUS[m.status]}</Text>
          </View>
          <View className='muted'>
            单号 {m.no} · 预约 {formatChinaTime(m.scheduledAt)}
          </View>
          <MeasurementReadings m={m} />
          {m.status === 'booked' ? (
            <View className='row'>
              <View
                className='btn btn-plain'
                data-reschedule
                onClick={() => {
                  setMoving(m);
                  setSlot(null);
                  Taro.pageScrollTo({ scrollTop: 0, duration: 200 }).catch(() => undefined);
                }}
              >
                改约
              </View>
              <View className='btn btn-plain' data-cancel-measure onClick={() => void cancel(m)}>
                取消预约
              </View>
            </View>
          ) : null}
          {m.status === 'ruled' ? (
            <View className='muted'>
              裁定：{m.rulingNote}
              {m.rulingRefundFen ? `，退费 ${(m.rulingRefundFen / 100).toFixed(2)} 元` : ''}
            </View>
          ) : null}
        </View>
      ))}
    </View>
  );
}
