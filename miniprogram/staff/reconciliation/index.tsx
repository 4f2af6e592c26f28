import { useState } from 'react';
import Taro, { useDidShow } from '@tarojs/taro';
import { Input, Text, View } from '@tarojs/components';
import {
  chinaDate,
  formatChinaTime,
  fenToYuanString,
  RESOLUTION_TYPE_LABELS,
  RESOLUTION_TYPES,
  type DiscrepancyView,
  type DuplicatePaymentPair,
  type ReconDayDetail,
  type ReconDayView,
  type ResolutionType,
} from '@heat-butler/shared';
import { downloadXlsx } from '../../services/download';
import { ApiError } from '../../services/api';
import { reconciliationApi } from '../../services/api/reconciliation';
import { asApiError } from '../../services/use-data';
import { Empty, LoadError } from '../../components/ui';
import { staffPage } from '../../components/staff-page';
import { DeskLayout, useDesk } from '../../components/desk-layout';

const yuan = (fen: number | undefined) => (fen === undefined ? '-' : `${fenToYuanString(fen)}元`);
const CHOICES = RESOLUTION_TYPES.filter((r) => r !== 'cleared_on_rerun') as ResolutionType[];
const TAG: Record<string, string> = { balanced: 'tag tag-green', differences: 'tag tag-red' };
const PAIR_TAG: Record<string, string> = { refunded: 'tag tag-green', refunding: 'tag', open: 'tag tag-red' };
const WEEK = ['一', '二', '三', '四', '五', '六', '日'];

const pad = (n: number) => String(n).padStart(2, '0');
const monthOf = (date: string) => date.slice(0, 7);
const addMonths = (month: string, n: number) => {
  const [y, m] = month.split('-').map(Number);
  const d = new Date(Date.UTC(y!, m! - 1 + n, 1));
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
};
const daysIn = (month: string) => {
  const [y, m] = month.split('-').map(Number);
  return new Date(Date.UTC(y!, m!, 0)).getUTCDate();
};
/** Monday = 0 */
const weekdayOf = (date: string) => (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
const seasonOf = (date: string) => {
  const y = Number(date.slice(0, 4));
  return date.slice(5) >= '07-01' ? `${y}-${y + 1}` : `${y - 1}-${y}`;
};

/** One month as a calendar: a cell per date coloured by status (已平 green, 有差异 red, 未对账 grey). */
function MonthGrid({ month, days, today, onOpen }: { month: string; days: Map<string, ReconDayView>; today: string; onOpen: (date: string) => void }) {
  const n = daysIn(month);
  const lead = weekdayOf(`${month}-01`);
  const cells: (string | null)[] = [...Array(lead).fill(null), ...Array.from({ length: n }, (_, i) => `${month}-${pad(i + 1)}`)];
  return (
    <View className='recon-cal'>
      {WEEK.map((w) => (
        <View className='recon-cal-head' key={w}>
          {w}
        </View>
      ))}
      {cells.map((date, i) => {
        if (!date) return <View className='recon-cal-cell recon-cal-blank' key={`b${i}`} />;
        const d = days.get(date);
        const future = date > today;
        const status = future ? 'future' : (d?.status ?? 'none');
        return (
          <View
            key={date}
            className={`recon-cal-cell recon-cal-${status === 'balanced' || status === 'differences' || status === 'future' ? status : 'none'}${date === today ? ' recon-cal-today' : ''}`}
            data-bill-date={date}
            data-status={status}
            onClick={() => !future && onOpen(date)}
          >
            <Text className='recon-cal-day'>{Number(date.slice(8))}</Text>
            {d?.wechat ? <Text className='recon-cal-amt'>{fenToYuanString(d.wechat.paymentFen)}</Text> : null}
            {d?.openDiscrepancies ? <Text className='recon-cal-amt'>差异 {d.openDiscrepancies}</Text> : null}
          </View>
        );
      })}
    </View>
  );
}

function Pair({ p }: { p: DuplicatePaymentPair }) {
  return (
    <View className='recon-pair' data-pair-bill={p.billId}>
      <View className='row'>
        <Text className='strong'>账单 #{p.billId}</Text>
        <Text className={PAIR_TAG[p.state] ?? 'tag'}>{p.stateLabel}</Text>
      </View>
      <View className='muted'>
        入账：
        {p.kept
          ? `${p.kept.outTradeNo} ${yuan(p.kept.amountFen)}`
          : p.keptVia === 'counter'
            ? `柜台缴费${p.counterPaidAt ? ` ${formatChinaTime(p.counterPaidAt)}` : ''}`
            : '（未找到）'}
      </View>
      <View className='muted'>
        重复：{p.duplicate.outTradeNo} {yuan(p.duplicate.amountFen)}
      </View>
      <View className='muted'>
        退款：
        {p.refund ? `${p.refund.outRefundNo} −${yuan(p.refund.amountFen)}（${p.refund.statusLabel}）` : '无'}
        {p.outstandingFen ? ` · 未退回 ${yuan(p.outstandingFen)}` : ''}
      </View>
    </View>
  );
}

/**
 * 对账 (finance; admin reads): a month calendar or a heating season of days with 未对账 / 有差异 / 已平,
 * a day's report (totals, classes, fee, healed, double payments as pairs), differences to resolve,
 * XLSX export of the day or the month.
 */
export default staffPage(['finance', 'admin'], function Reconciliation() {
  const today = chinaDate(new Date());
  const [mode, setMode] = useState<'month' | 'season'>('month');
  const [month, setMonth] = useState(monthOf(today));
  const [days, setDays] = useState<ReconDayView[] | null>(null);
  const [day, setDay] = useState<ReconDayDetail | null>(null);
  const [busy, setBusy] = useState(false);
  const [form, setForm] = useState<Record<string, { resolution: ResolutionType; note: string }>>({});
  /** a difference's form: by its day and key (`totals` is a key of every day) */
  const formOf = (d: DiscrepancyView) => `${d.billDate}/${d.key}`;
  const [error, setError] = useState<ApiError | null>(null);
  const desk = useDesk();

  const loadDays = async (m = mode, mon = month) => {
    const query =
      m === 'season' ? { season: seasonOf(today) } : { from: `${mon}-01`, to: `${mon}-${pad(daysIn(mon))}` < today ? `${mon}-${pad(daysIn(mon))}` : today };
    if (m === 'month' && query.from! > today) return setDays([]);
    setError(null);
    await reconciliationApi
      .days(query)
      .then((r) => setDays(r.items))
      .catch((e) => setError(asApiError(e)));
  };
  const openDay = (date: string) => {
    setError(null);
    return reconciliationApi
      .day({ date })
      .then(setDay)
      .catch((e) => setError(asApiError(e)));
  };
  useDidShow(() => void loadDays());

  const switchTo = (m: 'month' | 'season', mon = month) => {
    setMode(m);
    setMonth(mon);
    setDays(null);
    void loadDays(m, mon);
  };

  const run = async (date: string) => {
    setBusy(true);
    try {
      setDay(await reconciliationApi.run({ date }));
      await loadDays();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    } finally {
      setBusy(false);
    }
  };

  const resolve = async (d: DiscrepancyView) => {
    const f = form[formOf(d)];
    if (!f?.note?.trim()) return Taro.showToast({ title: '请填写处理说明', icon: 'none' });
    try {
      await reconciliationApi.resolve({ date: d.billDate, key: d.key }, { resolution: f.resolution ?? 'ledger_corrected', note: f.note });
      Taro.showToast({ title: '已处理', icon: 'success' });
      await openDay(d.billDate);
      await loadDays();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
    }
  };

  /** a day's reconciliation: phone — in place of the calendar; desk — beside it */
  const dayView = (day: ReconDayDetail) => {
    const w = day.wechat;
    return (
      <View className='recon-day' data-recon-day={day.billDate}>
        <LoadError error={error} />
        <View className='row recon-actions'>
          {desk ? null : (
            <View className='btn btn-plain' onClick={() => setDay(null)}>
              返回日历
            </View>
          )}
          <View className={`btn btn-primary${busy ? ' btn-disabled' : ''}`} onClick={() => !busy && run(day.billDate)}>
            {busy ? '对账中…' : day.runs ? '重新对账' : '对账'}
          </View>
        </View>
        <View className='card' data-day-status={day.status}>
          <View className='row'>
            <Text className='card-title'>{day.billDate}</Text>
            <Text className={TAG[day.status] ?? 'tag tag-grey'}>{day.statusLabel}</Text>
          </View>
          {day.lastError ? <View className='recon-error'>最近一次失败：{day.lastError}</View> : null}
          {w ? (
            <View>
              <View className='muted'>
                微信账单：收款 {w.paymentCount} 笔 {yuan(w.paymentFen)}，退款 {w.refundCount} 笔 {yuan(w.refundFen)}，手续费 {yuan(w.feeFen)}，净额{' '}
                {yuan(w.netFen)}
              </View>
              <View className='muted'>
                台账：收款 {day.ledger?.paymentCount} 笔 {yuan(day.ledger?.paymentFen)}，退款 {day.ledger?.refundCount} 笔 {yuan(day.ledger?.refundFen)}
              </View>
              <View className='muted'>账单汇总核对：{day.emptyBill ? '当日无交易（无账单）' : day.summaryMatches ? '一致' : '不一致'}</View>
              {day.classes ? (
                <View className='muted'>
                  一致 {day.classes.matched} · 自愈 {day.healed.length} · 在途退款 {day.classes.inTransit} · 重复支付 {day.classes.duplicatePaid} · 差异{' '}
                  {day.openDiscrepancies}/{day.totalDiscrepancies}（未处理/全部）
                </View>
              ) : null}
              <Text
                className='link'
                onClick={() => downloadXlsx(reconciliationApi.export({ date: day.billDate }), `对账-${day.billDate}.xlsx`, '导出失败，请稍后再试')}
              >
                导出 Excel
              </Text>
            </View>
          ) : day.runs === 0 ? (
            <View className='muted'>该日尚未对账</View>
          ) : null}
        </View>
        {day.healed.length ? (
          <View className='card'>
            <View className='card-title'>已自动补记（通知丢失）</View>
            {day.healed.map((h) => (
              <View className='muted' key={h.ref}>
                {h.outTradeNo} {yuan(h.amountFen)}
              </View>
            ))}
          </View>
        ) : null}
        {day.duplicatePayments.length ? (
          <View className='card'>
            <View className='card-title'>重复支付（同一账单缴了两次，后一笔自动退款）</View>
            {day.duplicatePayments.map((p) => (
              <Pair key={`${p.duplicate.outTradeNo}:${p.billId}`} p={p} />
            ))}
          </View>
        ) : null}
        {day.discrepancies.length < day.totalDiscrepancies ? (
          <View className='muted'>
            共 {day.totalDiscrepancies} 条差异，这里列出 {day.discrepancies.length} 条（未处理的在前），全部差异请导出 Excel 查看
          </View>
        ) : null}
        {day.discrepancies.map((d) => (
          <View className='card' key={formOf(d)} data-discrepancy-key={d.key} data-discrepancy-status={d.status}>
            <View className='row'>
              <Text className='card-title'>
                {d.kindLabel} · {d.outRefundNo || d.outTradeNo || '汇总'}
              </Text>
              <Text className={d.status === 'open' ? 'tag tag-red' : 'tag tag-green'}>
                {d.status === 'open' ? '待处理' : RESOLUTION_TYPE_LABELS[d.resolution!]}
              </Text>
            </View>
            <View className='muted'>差额：{yuan(d.diffFen)}</View>
            <View className='muted'>微信：{d.wechat ? JSON.stringify(d.wechat) : '无'}</View>
            <View className='muted'>台账：{d.ledger ? JSON.stringify(d.ledger) : '无'}</View>
            {d.status === 'resolved' ? (
              <View className='muted'>
                {d.resolvedBy} {d.resolvedAt ? formatChinaTime(d.resolvedAt) : ''}：{d.note}
              </View>
            ) : (
              <View>
                <View className='recon-chips'>
                  {CHOICES.map((c) => (
                    <Text
                      key={c}
                      className={`recon-chip${(form[formOf(d)]?.resolution ?? 'ledger_corrected') === c ? ' recon-chip-on' : ''}`}
                      onClick={() => setForm({ ...form, [formOf(d)]: { note: form[formOf(d)]?.note ?? '', resolution: c } })}
                    >
                      {RESOLUTION_TYPE_LABELS[c]}
                    </Text>
                  ))}
                </View>
                <Input
                  className='input'
                  placeholder='处理说明（必填）'
                  value={form[formOf(d)]?.note ?? ''}
                  onInput={(e) => setForm({ ...form, [formOf(d)]: { resolution: form[formOf(d)]?.resolution ?? 'ledger_corrected', note: e.detail.value } })}
                />
                <View className='btn btn-primary' onClick={() => resolve(d)}>
                  标记已处理
                </View>
              </View>
            )}
          </View>
        ))}
      </View>
    );
  };
  if (day && !desk) return <View className='page recon-page'>{dayView(day)}</View>;

  const byDate = new Map((days ?? []).map((d) => [d.billDate, d]));
  const done = (days ?? []).filter((d) => d.wechat);
  const sum = (f: (d: ReconDayView) => number) => done.reduce((n, d) => n + f(d), 0);
  const months = mode === 'season' ? [...new Set((days ?? []).map((d) => monthOf(d.billDate)))].sort() : [month];
  const calendar = (
    <View>
      <LoadError error={error} onRetry={() => void loadDays()} />
      <View className='segmented'>
        <View className={`segment${mode === 'month' ? ' segment-active' : ''}`} onClick={() => switchTo('month')}>
          按月
        </View>
        <View className={`segment${mode === 'season' ? ' segment-active' : ''}`} onClick={() => switchTo('season')}>
          本采暖季
        </View>
      </View>
      {mode === 'month' ? (
        <View className='row card recon-month-nav'>
          <Text className='link' onClick={() => switchTo('month', addMonths(month, -1))}>
            ‹ 上月
          </Text>
          <Text className='strong'>{month}</Text>
          <Text className='link' onClick={() => month < monthOf(today) && switchTo('month', addMonths(month, 1))}>
            {month < monthOf(today) ? '下月 ›' : ''}
          </Text>
        </View>
      ) : (
        <View className='card muted'>{seasonOf(today)} 采暖季（至今天）</View>
      )}
      <View className='card'>
        <View className='recon-legend'>
          <Text className='tag tag-green'>已平</Text> <Text className='tag tag-red'>有差异</Text> <Text className='tag tag-grey'>未对账</Text>
        </View>
        <View className='muted'>
          已对账 {done.length} 天：收款 {yuan(sum((d) => d.wechat!.paymentFen))}，退款 {yuan(sum((d) => d.wechat!.refundFen))}，手续费{' '}
          {yuan(sum((d) => d.wechat!.feeFen))}，净额 {yuan(sum((d) => d.wechat!.netFen))}
        </View>
        {days?.length ? (
          <Text
            className='link'
            onClick={() => {
              const from = days[days.length - 1]!.billDate;
              const to = days[0]!.billDate;
              void downloadXlsx(reconciliationApi.export({ from, to }), `对账-${from}至${to}.xlsx`, '导出失败，请稍后再试');
            }}
          >
            导出 Excel（{mode === 'season' ? '本采暖季' : '本月'}）
          </Text>
        ) : null}
      </View>
      {days && !days.length ? <Empty>没有可对账的日期</Empty> : null}
      {days?.length
        ? months.map((m) => (
            <View className='card' key={m}>
              {mode === 'season' ? <View className='card-title'>{m}</View> : null}
              <MonthGrid month={m} days={byDate} today={today} onOpen={(date) => void openDay(date)} />
            </View>
          ))
        : null}
    </View>
  );
  return (
    <View className='page recon-page desk-page'>
      {desk ? (
        <DeskLayout desk phone='replace' list={calendar} detail={day ? dayView(day) : null} empty='在左侧日历中选择一天，查看对账结果和差异' />
      ) : (
        calendar
      )}
    </View>
  );
});
