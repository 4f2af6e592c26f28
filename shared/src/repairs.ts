/**
 * Repairs and temperature measurements: categories, the ticket state machine, and the pure SLA
 * clock (deadlines computed from CompanyRules in China time). Used by the BFF and the mini-program.
 */
import type { CompanyRules } from './company';
import type { TransitionTable } from './state-machine';
import { chinaDayStart, chinaHm, chinaParts, chinaTime, DAY_MS, minutesOfDay, sameChinaDay } from './time';
import { dateInYear } from './inputs';

export const REPAIR_CATEGORIES = ['low_temp', 'leak', 'flooding', 'no_heat', 'valve', 'other'] as const;
export type RepairCategory = (typeof REPAIR_CATEGORIES)[number];
export const REPAIR_CATEGORY_LABEL: Record<RepairCategory, string> = {
  low_temp: '室温不达标',
  leak: '跑冒滴漏/漏水',
  flooding: '室内跑水',
  no_heat: '暖气不热/有空气',
  valve: '阀门',
  other: '其他',
};

/**
 * The seeds' clock per category (company setting repairs.categories): indoor flooding and pipe
 * leaks are emergencies (Heihe 004), a leak on site within 25 min (Changchun 000), flooding within
 * 1 h (Heihe 004); routine repairs on site within 30 min (Zibo 001); every order reaches the
 * worker within 10 min (Harbin 003).
 */
export const REPAIR_CATEGORY_CLOCKS: readonly { category: RepairCategory; emergency: boolean; dispatchMinutes: number; onSiteMinutes: number }[] = [
  { category: 'low_temp', emergency: false, dispatchMinutes: 10, onSiteMinutes: 30 },
  { category: 'leak', emergency: true, dispatchMinutes: 10, onSiteMinutes: 25 },
  { category: 'flooding', emergency: true, dispatchMinutes: 10, onSiteMinutes: 60 },
  { category: 'no_heat', emergency: false, dispatchMinutes: 10, onSiteMinutes: 30 },
  { category: 'valve', emergency: false, dispatchMinutes: 10, onSiteMinutes: 30 },
  { category: 'other', emergency: false, dispatchMinutes: 10, onSiteMinutes: 30 },
];

/** The company's clock of a category (a category missing from the setting keeps the seeds' clock). */
export function categoryClock(category: RepairCategory, rules: Pick<CompanyRules, 'repairs'>): CompanyRules['repairs']['categories'][number] {
  return rules.repairs.categories.find((c) => c.category === category) ?? REPAIR_CATEGORY_CLOCKS.find((c) => c.category === category)!;
}

/** An emergency: the resident says so, or the company counts the category as one (indoor flooding, pipe leak). */
export function isEmergency(category: RepairCategory, requested: boolean, rules: Pick<CompanyRules, 'repairs'>): boolean {
  return requested || categoryClock(category, rules).emergency;
}

export const REPAIR_STATES = [
  'pending',
  'assigned',
  'contacted',
  'on_site',
  'awaiting_consent',
  'in_progress',
  'resolved',
  'closed',
  'reopened',
  'cancelled',
] as const;
export type RepairState = (typeof REPAIR_STATES)[number];
export const REPAIR_STATE_LABEL: Record<RepairState, string> = {
  pending: '待派单',
  assigned: '已派单',
  contacted: '已联系',
  on_site: '已上门',
  awaiting_consent: '待确认费用',
  in_progress: '维修中',
  resolved: '已完工，待评价',
  closed: '已完结',
  reopened: '重新处理',
  cancelled: '已取消',
};
/** States in which the ticket is still being worked on (SLA clocks run). */
export const REPAIR_OPEN_STATES: readonly RepairState[] = ['pending', 'assigned', 'contacted', 'on_site', 'awaiting_consent', 'in_progress', 'reopened'];

const FIELD = ['worker', 'butler'] as const;
const DISPATCH = ['dispatcher', 'admin', 'system'] as const;

/** The ticket's state machine: who may move it where. Reassignment is assigned → assigned. */
export const REPAIR_TRANSITIONS: TransitionTable<RepairState> = [
  { from: 'pending', to: 'assigned', by: [...DISPATCH, ...FIELD] },
  { from: 'pending', to: 'cancelled', by: ['resident', 'dispatcher', 'admin'] },
  { from: 'assigned', to: 'assigned', by: DISPATCH },
  { from: 'assigned', to: 'contacted', by: FIELD },
  { from: 'assigned', to: 'on_site', by: FIELD },
  { from: 'assigned', to: 'cancelled', by: ['resident', 'dispatcher', 'admin'] },
  { from: 'contacted', to: 'assigned', by: DISPATCH },
  { from: 'contacted', to: 'on_site', by: FIELD },
  { from: 'contacted', to: 'cancelled', by: ['resident', 'dispatcher', 'admin'] },
  { from: 'on_site', to: 'in_progress', by: FIELD },
  { from: 'on_site', to: 'awaiting_consent', by: FIELD },
  { from: 'awaiting_consent', to: 'in_progress', by: ['resident'] },
  { from: 'awaiting_consent', to: 'cancelled', by: ['resident'] },
  { from: 'in_progress', to: 'resolved', by: FIELD },
  { from: 'resolved', to: 'closed', by: ['resident', 'agent', 'system'] },
  { from: 'resolved', to: 'reopened', by: ['resident', 'agent'] },
  { from: 'reopened', to: 'assigned', by: DISPATCH },
];

/** Who pays: the company's pipes, or the resident's own installation (a paid service, price told first). */
export const REPAIR_SIDES = ['company', 'resident'] as const;
export type RepairSide = (typeof REPAIR_SIDES)[number];
export const REPAIR_SIDE_LABEL: Record<RepairSide, string> = { company: '公司产权（免费）', resident: '用户自有设施（有偿）' };

/** Default price list for resident-side work (fen); shown to the resident before they consent. */
export const REPAIR_PRICE_LIST = [
  { code: 'valve_replace', name: '更换阀门（含工）', priceFen: 8000 },
  { code: 'radiator_bleed', name: '暖气片放气/清洗', priceFen: 3000 },
  { code: 'pipe_fix', name: '户内管道维修（每处）', priceFen: 12000 },
  { code: 'radiator_replace', name: '更换散热器（每组，不含材料）', priceFen: 15000 },
  { code: 'visit', name: '上门服务费', priceFen: 2000 },
] as const;
export type PriceCode = (typeof REPAIR_PRICE_LIST)[number]['code'];

/** Escalation levels: 1 = supervisor (the area's dispatchers), 2 = department head (admins). */
export const ESCALATION_LEVEL_LABEL: Record<number, string> = { 0: '', 1: '主管', 2: '部门负责人' };

// ---- China-time clock ---------------------------------------------------------------------

type Sla = CompanyRules['sla'];

/** Is this instant inside the quiet hours (default 20:00–08:00 China time, no calls)? */
export function inQuietHours(at: Date, sla: Pick<Sla, 'quietStart' | 'quietEnd'>): boolean {
  const p = chinaParts(at);
  const m = p.hour * 60 + p.minute + p.second / 60;
  const s = minutesOfDay(sla.quietStart);
  const e = minutesOfDay(sla.quietEnd);
  return s > e ? m >= s || m < e : m >= s && m < e;
}

/** `hm` ("HH:mm") on the China day of `at`. */
function atClock(at: Date, hm: string): Date {
  const p = chinaParts(at);
  const [h = 0, m = 0] = hm.split(':').map(Number);
  return chinaTime(p.year, p.month, p.day, h, m);
}

/** The first instant at or after `at` outside the quiet hours (a 21:30 task moves to 08:00 next day). */
export function pushOutOfQuietHours(at: Date, sla: Pick<Sla, 'quietStart' | 'quietEnd'>): Date {
  if (!inQuietHours(at, sla)) return at;
  const end = atClock(at, sla.quietEnd);
  return end < at ? new Date(end.getTime() + DAY_MS) : end;
}

/** The last instant at or before `at` outside the quiet hours (a 21:30 deadline moves back to 20:00). */
export function pullBeforeQuietHours(at: Date, sla: Pick<Sla, 'quietStart' | 'quietEnd'>): Date {
  if (!inQuietHours(at, sla)) return at;
  const start = atClock(at, sla.quietStart);
  return start > at ? new Date(start.getTime() - DAY_MS) : start;
}

/** Add minutes of non-quiet time: the clock stops 20:00–08:00 (kept for schedules that respect quiet hours). */
export function addServiceMinutes(from: Date, minutes: number, sla: Pick<Sla, 'quietStart' | 'quietEnd'>): Date {
  let t = pushOutOfQuietHours(from, sla);
  let left = minutes * 60_000;
  for (let guard = 0; guard < 1000 && left > 0; guard++) {
    let quiet = atClock(t, sla.quietStart);
    if (quiet <= t) quiet = new Date(quiet.getTime() + DAY_MS);
    const room = quiet.getTime() - t.getTime();
    if (left <= room) return new Date(t.getTime() + left);
    left -= room;
    t = pushOutOfQuietHours(quiet, sla);
  }
  return t;
}

export interface RepairDeadlines {
  /** by when the order reaches a butler/worker (Harbin 003: 10 min) */
  dispatchDueAt: Date;
  /** by when someone contacts the resident */
  contactDueAt: Date;
  /** by when someone is on site: the category's minutes, or the end of the resident's booked slot */
  onSiteDueAt: Date;
  doneDueAt: Date;
}

/**
 * A ticket's deadlines from the company's settings. Every clock runs around the clock (the hotline
 * is 24 h, Heihe 004; the seeds keep the night free only for callbacks, Zibo 001): a 19:50
 * request is contacted by 20:20. Routine: dispatch and on site by the category's minutes (a booked
 * slot moves on-site to the slot's end), contact within routineContactMinutes, done within
 * routineDoneMinutes. Emergency: contact within registerMinutes, on site by the category's
 * minutes (a routine category flagged urgent by the resident: at most emergencyOnSiteMinutes).
 */
export function repairDeadlines(
  input: { createdAt: Date; category: RepairCategory; emergency: boolean; slotEnd?: Date | null },
  rules: Pick<CompanyRules, 'sla' | 'repairs'>,
): RepairDeadlines {
  const { sla } = rules;
  const t = input.createdAt.getTime();
  const clock = categoryClock(input.category, rules);
  const at = (minutes: number) => new Date(t + minutes * 60_000);
  const dispatchDueAt = at(clock.dispatchMinutes);
  const doneDueAt = at(sla.routineDoneMinutes);
  if (input.emergency) {
    const onSite = clock.emergency ? clock.onSiteMinutes : Math.min(clock.onSiteMinutes, sla.emergencyOnSiteMinutes);
    return {
      dispatchDueAt: at(Math.min(clock.dispatchMinutes, onSite)),
      contactDueAt: at(Math.min(sla.registerMinutes, onSite)),
      onSiteDueAt: at(onSite),
      doneDueAt,
    };
  }
  return {
    dispatchDueAt,
    contactDueAt: at(sla.routineContactMinutes),
    onSiteDueAt: input.slotEnd && input.slotEnd.getTime() > t ? input.slotEnd : at(clock.onSiteMinutes),
    doneDueAt,
  };
}

/**
 * The satisfaction callback after a ticket is resolved: shown to agents from `scheduledAt`
 * (never inside quiet hours), due within callbackMinutes (pulled back before quiet hours so the
 * promise holds). Emergencies also get a report deadline: emergencyReportMinutes after finishing.
 */
export function callbackSchedule(resolvedAt: Date, emergency: boolean, rules: Pick<CompanyRules, 'sla'>) {
  const { sla } = rules;
  const scheduledAt = pushOutOfQuietHours(resolvedAt, sla);
  let dueAt = pullBeforeQuietHours(new Date(resolvedAt.getTime() + sla.callbackMinutes * 60_000), sla);
  if (dueAt < scheduledAt) dueAt = pushOutOfQuietHours(new Date(resolvedAt.getTime() + sla.callbackMinutes * 60_000), sla);
  const reportDueAt = emergency ? new Date(resolvedAt.getTime() + sla.emergencyReportMinutes * 60_000) : null;
  return { scheduledAt, dueAt, reportDueAt };
}

/** "08:30", "明天 08:30" or "11月27日 08:30": a deadline as a resident reads it (China time). */
export function chinaWhen(at: Date, now: Date): string {
  const d = chinaParts(at);
  const day = sameChinaDay(at, now) ? '' : sameChinaDay(at, chinaDayStart(now, 1)) ? '明天 ' : `${d.month}月${d.day}日 `;
  return `${day}${chinaHm(at)}`;
}

/** "预计 08:30 前联系您" (with the date when it is not today in China time). */
export function contactPromise(contactDueAt: Date, now: Date): string {
  return `预计 ${chinaWhen(contactDueAt, now)} 前联系您`;
}

/** Minutes left until a deadline (negative when overdue), for staff lists. */
export function minutesLeft(due: Date | null, now: Date): number | null {
  return due ? Math.floor((due.getTime() - now.getTime()) / 60_000) : null;
}

/** Is the preferred visit slot acceptable: same China day, outside quiet hours, in the future, within the booking horizon (company setting repairs.bookingHorizonDays, 7 days). */
export function slotProblem(start: Date, end: Date, now: Date, sla: Pick<Sla, 'quietStart' | 'quietEnd'>, horizonDays = 7): string | null {
  if (end <= start) return '结束时间应晚于开始时间';
  if (start.getTime() < now.getTime() - 5 * 60_000) return '预约时间不能早于当前时间';
  if (start.getTime() > now.getTime() + horizonDays * 86_400_000) return `只能预约${horizonDays}天内的时间`;
  if (!sameChinaDay(start, end)) return '预约时段应在同一天内';
  const probe = new Date(end.getTime() - 1);
  if (inQuietHours(start, sla) || inQuietHours(probe, sla)) return `${sla.quietStart}至次日${sla.quietEnd}不上门`;
  return null;
}

// ---- temperature measurements -------------------------------------------------------------

/** Is the instant inside one of the measurement windows (06:00–08:00, 16:00–20:00 China time)? */
export function inMeasurementWindow(at: Date, windows: CompanyRules['measurementWindows']): boolean {
  const p = chinaParts(at);
  const m = p.hour * 60 + p.minute;
  return windows.some((w) => m >= minutesOfDay(w.start) && m < minutesOfDay(w.end));
}

// the protocol's checks live with the protocol (measurement.ts)
export { MEASUREMENT_CHECKS, MEASUREMENT_CHECK_LABEL, type MeasurementCheck } from './measurement';

export type Compliance = 'below_legal' | 'below_promise' | 'ok';
export const COMPLIANCE_LABEL: Record<Compliance, string> = { below_legal: '低于18℃（不达标）', below_promise: '达标但低于承诺温度', ok: '达标' };

/** Compliance of a reading (tenths of °C) against 18 °C by law and the company's promise. */
export function compliance(readingDeciC: number, rules: Pick<CompanyRules, 'minTemperatureC' | 'promisedTemperatureC'>): Compliance {
  if (readingDeciC < Math.round(rules.minTemperatureC * 10)) return 'below_legal';
  if (readingDeciC < Math.round(rules.promisedTemperatureC * 10)) return 'below_promise';
  return 'ok';
}

// ---- watch list and reports ---------------------------------------------------------------

/** Heihe's hazard ledger: a building with this many complaints (tickets) in a season is watched. */
export const WATCH_BUILDING_COMPLAINTS = 10;
/** A household with this many 室温不达标 tickets in a season is watched. */
export const WATCH_REPEATED_LOW_TEMP = 2;

/** The heating season starting in `startYear` (company rules seasonStart/seasonEnd, China time). */
export function seasonWindow(startYear: number, rules: Pick<CompanyRules, 'seasonStart' | 'seasonEnd'>): { label: string; start: Date; end: Date } {
  const endYear = rules.seasonEnd <= rules.seasonStart ? startYear + 1 : startYear;
  // a day the year lacks (02-29 in a non-leap year) is that month's last day
  const [, sm = 1, sd = 1] = dateInYear(startYear, rules.seasonStart).split('-').map(Number);
  const [, em = 1, ed = 1] = dateInYear(endYear, rules.seasonEnd).split('-').map(Number);
  return { label: endYear === startYear ? String(startYear) : `${startYear}-${endYear}`, start: chinaTime(startYear, sm, sd), end: chinaTime(endYear, em, ed) };
}

/** The start year of the season that started most recently at `at` (it may have ended since). */
export function latestSeasonStartYear(at: Date, rules: Pick<CompanyRules, 'seasonStart' | 'seasonEnd'>): number {
  const y = chinaParts(at).year;
  return seasonWindow(y, rules).start > at ? y - 1 : y;
}

/** The start year of the last finished season at `now`: during a season the one before it, in summer the one just ended. */
export function lastSeasonStartYear(now: Date, rules: Pick<CompanyRules, 'seasonStart' | 'seasonEnd'>): number {
  const y = latestSeasonStartYear(now, rules);
  return seasonWindow(y, rules).end > now ? y - 1 : y;
}

/** The median of some numbers (null when empty). */
export function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
