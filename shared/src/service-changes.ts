/**
 * Stop (报停) and resume (复供) heating: application kinds, the state machine as data, the deadline
 * rule and the repeat-change limits. Pure: the BFF enforces them, the mini-program explains them.
 */
import { chinaDate, chinaParts, chinaTime } from './time';
import { dateInYear } from './inputs';
import { seasonLabel } from './billing';
import { seasonWindow } from './repairs';
import type { CompanyRules } from './company';
import type { TransitionTable } from './state-machine';

export const SERVICE_CHANGE_KINDS = ['stop', 'resume'] as const;
export type ServiceChangeKind = (typeof SERVICE_CHANGE_KINDS)[number];
export const SERVICE_CHANGE_KIND_LABEL: Record<ServiceChangeKind, string> = { stop: '报停', resume: '复供' };

export const SERVICE_CHANGE_STATES = [
  'submitted',
  'under_review',
  'rejected',
  'approved',
  /** resume: the full fee (or the difference over a paid base fee) is being waited for */
  'awaiting_payment',
  /** the valve work order is with the substation crew */
  'work_order',
  'done',
  'cancelled',
] as const;
export type ServiceChangeState = (typeof SERVICE_CHANGE_STATES)[number];
export const SERVICE_CHANGE_STATE_LABEL: Record<ServiceChangeState, string> = {
  submitted: '已提交',
  under_review: '审核中',
  rejected: '已驳回（待补正）',
  approved: '审核通过',
  awaiting_payment: '待缴费',
  work_order: '阀门施工中',
  done: '已完成',
  cancelled: '已撤销',
};

/** States in which an application still blocks a new one for the same account and season: all but the final ones. */
export const SERVICE_CHANGE_OPEN_STATES: readonly ServiceChangeState[] = SERVICE_CHANGE_STATES.filter((s) => s !== 'done' && s !== 'cancelled');
/** States that count as a change for the repeat limits (approved or beyond). */
export const SERVICE_CHANGE_COUNTED_STATES: readonly ServiceChangeState[] = ['approved', 'awaiting_payment', 'work_order', 'done'];
/** The resident may cancel only before approval. */
export const SERVICE_CHANGE_CANCELLABLE: readonly ServiceChangeState[] = ['submitted', 'under_review', 'rejected'];

export const SERVICE_CHANGE_TRANSITIONS: TransitionTable<ServiceChangeState> = [
  { from: 'submitted', to: 'under_review', by: ['agent', 'admin'] },
  { from: 'under_review', to: 'approved', by: ['agent', 'admin'] },
  { from: 'under_review', to: 'rejected', by: ['agent', 'admin'] },
  // the resident fixes every listed problem in the same application
  { from: 'rejected', to: 'submitted', by: ['resident', 'agent', 'admin'] },
  { from: 'submitted', to: 'cancelled', by: ['resident', 'agent', 'admin'] },
  { from: 'under_review', to: 'cancelled', by: ['resident', 'agent', 'admin'] },
  { from: 'rejected', to: 'cancelled', by: ['resident', 'agent', 'admin'] },
  { from: 'approved', to: 'awaiting_payment', by: ['system'] },
  { from: 'approved', to: 'work_order', by: ['system'] },
  // the bill was paid (payments' crediting transaction)
  { from: 'awaiting_payment', to: 'work_order', by: ['system'] },
  // the crew marked the valve work done
  { from: 'work_order', to: 'done', by: ['system'] },
];

// ---- valve work orders --------------------------------------------------------------------------

export const VALVE_ACTIONS = ['close', 'open', 'seal'] as const;
export type ValveAction = (typeof VALVE_ACTIONS)[number];
export const VALVE_ACTION_LABEL: Record<ValveAction, string> = { close: '关阀', open: '开阀', seal: '关阀并施封' };

export const VALVE_ORDER_STATES = ['open', 'done', 'cancelled'] as const;
export type ValveOrderState = (typeof VALVE_ORDER_STATES)[number];
export const VALVE_ORDER_STATE_LABEL: Record<ValveOrderState, string> = { open: '待施工', done: '已完成', cancelled: '已取消' };

export const VALVE_ORDER_TRANSITIONS: TransitionTable<ValveOrderState> = [
  { from: 'open', to: 'done', by: ['station', 'admin'] },
  { from: 'open', to: 'cancelled', by: ['admin'] },
];

// ---- documents ------------------------------------------------------------------------------------

/** Labels of the document kinds a company may require; unknown kinds show as their key. */
export const DOCUMENT_LABEL: Record<string, string> = {
  id_photo: '户主身份证照片',
  property_certificate: '房产证照片',
  lease_contract: '租赁合同照片',
  authorization: '委托书照片',
};
export function documentLabel(kind: string): string {
  return DOCUMENT_LABEL[kind] ?? kind;
}

/** Which required documents an application lacks (every one of them, at once). */
export function missingDocuments(required: readonly string[], provided: readonly { kind: string }[]): string[] {
  const have = new Set(provided.map((d) => d.kind));
  return required.filter((k) => !have.has(k));
}

// ---- the deadline ----------------------------------------------------------------------------------

export function seasonStartYear(seasonCode: string): number {
  return Number(seasonCode.slice(0, 4));
}

export function seasonCodeOf(startYear: number): string {
  return `${startYear}-${startYear + 1}`;
}

/**
 * Applications for season S are accepted until the deadline day (MM-DD) of S's start year,
 * 23:59:59 China time. Returns the first instant that is too late (the next midnight, China time).
 * A deadline day the year lacks (02-29 in a non-leap year) is that month's last day.
 */
export function changeClosesAt(seasonCode: string, rules: Pick<CompanyRules, 'changeDeadline'>): Date {
  const [year = 0, month = 1, day = 1] = deadlineDay(seasonCode, rules).split('-').map(Number);
  return chinaTime(year, month, day + 1);
}

/** The deadline day of a season, "2026-09-20" (always a real date). */
function deadlineDay(seasonCode: string, rules: Pick<CompanyRules, 'changeDeadline'>): string {
  return dateInYear(seasonStartYear(seasonCode), rules.changeDeadline);
}

/** "2026-09-20 23:59:59" */
export function changeDeadlineText(seasonCode: string, rules: Pick<CompanyRules, 'changeDeadline'>): string {
  return `${deadlineDay(seasonCode, rules)} 23:59:59`;
}

export function isChangeOpen(seasonCode: string, now: Date, rules: Pick<CompanyRules, 'changeDeadline'>): boolean {
  return now.getTime() < changeClosesAt(seasonCode, rules).getTime();
}

/**
 * The earliest season still accepting applications at `now`. At most three candidates: the
 * deadline of the season starting next year is a real day of next year, so it is always ahead.
 */
export function nextOpenSeason(now: Date, rules: Pick<CompanyRules, 'changeDeadline'>): string {
  const year = chinaParts(now).year;
  for (let y = year - 1; y <= year; y++) if (isChangeOpen(seasonCodeOf(y), now, rules)) return seasonCodeOf(y);
  return seasonCodeOf(year + 1);
}

/** "2027年9月20日" from "2027-09-20" */
export function chineseDate(day: string): string {
  return `${Number(day.slice(0, 4))}年${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日`;
}

/** Where 报停/复供 applications stand at `now`: what the resident's page offers, and what it says when nothing is open. */
export interface ServiceChangeWindows {
  /** seasons accepting applications now (the company has set them up, the deadline is ahead), earliest first */
  open: { season: string; label: string; deadline: string }[];
  /** when nothing is open: the next season's window (opens when the company sets the season up) */
  next: { season: string; label: string; deadline: string; text: string } | null;
  /** the season heating now (or about to), whose deadline has passed: what resuming this winter means is said for it */
  closed: { season: string; label: string; deadline: string } | null;
  hotline: string;
}

/**
 * The windows at `now`, given the seasons the company has created. A season's window is open from
 * its creation (tariffs published) until its deadline; when none is open the resident reads when
 * the next one opens (after the current season ends, once its tariffs are out) and the hotline.
 */
export function serviceChangeWindows(
  now: Date,
  rules: Pick<CompanyRules, 'changeDeadline' | 'seasonStart' | 'seasonEnd'>,
  existing: readonly string[],
  hotline: string,
): ServiceChangeWindows {
  const first = nextOpenSeason(now, rules);
  const candidates = [first, seasonCodeOf(seasonStartYear(first) + 1)];
  const open = candidates
    .filter((c) => existing.includes(c) && isChangeOpen(c, now, rules))
    .map((c) => ({ season: c, label: seasonLabel(c), deadline: changeDeadlineText(c, rules) }));
  let next: ServiceChangeWindows['next'] = null;
  if (!open.length) {
    const y = seasonStartYear(first);
    // the season before the next one: its end is when the next one's tariffs usually come out
    const before = seasonWindow(y - 1, rules);
    const endDay = chinaDate(before.end);
    const deadline = chineseDate(deadlineDay(first, rules));
    const when = before.end.getTime() > now.getTime() ? `预计${chineseDate(endDay)}本采暖季结束后，公司公布热价时开放` : '公司公布该采暖季热价后即开放';
    next = {
      season: first,
      label: seasonLabel(first),
      deadline: changeDeadlineText(first, rules),
      text: `现在不在报停/复供办理期。${seasonLabel(first)}的报停/复供${when}，截止${deadline}23:59:59。`,
    };
  }
  // this winter's season: started (or starting) in the current heating year, deadline passed, not ended
  const y = chinaParts(now).year;
  let closed: ServiceChangeWindows['closed'] = null;
  for (const sy of [y - 1, y]) {
    const code = seasonCodeOf(sy);
    if (existing.includes(code) && !isChangeOpen(code, now, rules) && seasonWindow(sy, rules).end.getTime() > now.getTime())
      closed = { season: code, label: seasonLabel(code), deadline: changeDeadlineText(code, rules) };
  }
  return { open, next, closed, hotline };
}

/** The plain message a resident reads when a season has closed. */
export function lateMessage(seasonCode: string, now: Date, rules: Pick<CompanyRules, 'changeDeadline'>): string {
  const next = nextOpenSeason(now, rules);
  const cn = (day: string) => `${Number(day.slice(0, 4))}年${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日`;
  return `${seasonLabel(seasonCode)}的报停/复供申请已于${cn(deadlineDay(seasonCode, rules))}23:59:59截止，不再受理；您可以申请${seasonLabel(next)}（截止${cn(deadlineDay(next, rules))}）。如有特殊情况请到营业厅办理。`;
}

// ---- repeat limits ------------------------------------------------------------------------------------

export interface PriorChange {
  kind: ServiceChangeKind;
  state: ServiceChangeState;
}

/** Why this kind of change is not allowed again for the season (empty = allowed). */
export function repeatLimitProblems(kind: ServiceChangeKind, prior: readonly PriorChange[], rules: Pick<CompanyRules, 'serviceChange'>): string[] {
  const problems: string[] = [];
  const counted = prior.filter((p) => SERVICE_CHANGE_COUNTED_STATES.includes(p.state));
  if (counted.length >= rules.serviceChange.maxChangesPerSeason) {
    problems.push(`同一采暖季最多办理${rules.serviceChange.maxChangesPerSeason}次报停/复供，本采暖季已办理${counted.length}次`);
  }
  if (kind === 'resume' && rules.serviceChange.noResumeAfterStopInSameSeason && prior.some((p) => p.kind === 'stop' && p.state === 'done')) {
    problems.push('本采暖季已办理报停并已关阀，本采暖季内不能再申请复供');
  }
  return problems;
}

/** The limits in words, shown before the resident applies. */
export function limitTexts(rules: Pick<CompanyRules, 'serviceChange' | 'changeDeadline'>): string[] {
  const [m, d] = rules.changeDeadline.split('-').map(Number);
  const out = [
    `每个采暖季的报停/复供申请须在开始年份的${m}月${d}日23:59:59前提交`,
    `同一户号同一采暖季最多办理${rules.serviceChange.maxChangesPerSeason}次报停/复供`,
  ];
  if (rules.serviceChange.noResumeAfterStopInSameSeason) out.push('报停关阀后，本采暖季内不能再复供');
  out.push('有欠费的户号须先缴清欠费才能报停');
  out.push('复供须先缴清全额热费（或补缴与已缴基础热费的差额），缴费后安排开阀');
  return out;
}
