/**
 * Complaints (投诉): where they come from, their state machine, and their clocks, as pure rules for
 * the BFF and the mini-program. The seeds: Changchun (000) closes a complaint within 24 h, 72 h when
 * the resident agrees, and calls back within 24 h; Harbin (003) solves it within 24 h, at most 48 h,
 * and takes them from the 12345 city hotline. The hours are company settings (`complaints.*`).
 *
 * Also the watch program's task kinds (Heihe 004: visits to watch-list households from the first
 * heating day, a re-measurement 30 min after a low-temperature fix).
 */
import type { CompanyRules } from './company';
import type { TransitionTable } from './state-machine';

export const COMPLAINT_SOURCES = ['app', 'hotline_12345', 'hotline_12319', 'phone'] as const;
export type ComplaintSource = (typeof COMPLAINT_SOURCES)[number];
export const COMPLAINT_SOURCE_LABEL: Record<ComplaintSource, string> = {
  app: '住户小程序',
  hotline_12345: '12345市民热线',
  hotline_12319: '12319城建热线',
  phone: '客服电话',
};
/** Hotline tickets carry the hotline's own ticket number (工单号), to report back to the hotline. */
export const EXTERNAL_NO_REQUIRED: readonly ComplaintSource[] = ['hotline_12345', 'hotline_12319'];

export const COMPLAINT_STATES = ['open', 'processing', 'resolved', 'closed'] as const;
export type ComplaintState = (typeof COMPLAINT_STATES)[number];
export const COMPLAINT_STATE_LABEL: Record<ComplaintState, string> = {
  open: '已受理',
  processing: '处理中',
  resolved: '已处理，待回访',
  closed: '已办结',
};
/** States in which the close clock runs. */
export const COMPLAINT_OPEN_STATES: readonly ComplaintState[] = ['open', 'processing'];

const HANDLERS = ['agent', 'butler', 'dispatcher', 'admin'] as const;
const CALLERS = ['agent', 'admin'] as const;

/**
 * open → processing (a handler takes it) → resolved (the answer recorded) → closed (the callback:
 * satisfied or unreachable); an unsatisfied callback sends it back to processing, one level up.
 */
export const COMPLAINT_TRANSITIONS: TransitionTable<ComplaintState> = [
  { from: 'open', to: 'processing', by: HANDLERS },
  { from: 'processing', to: 'resolved', by: HANDLERS },
  { from: 'resolved', to: 'closed', by: CALLERS },
  { from: 'resolved', to: 'processing', by: CALLERS },
];

export type ComplaintRules = Pick<CompanyRules, 'complaints'>;

/** When the complaint must be closed: closeHours after it was filed, agreedCloseHours with the resident's recorded agreement. */
export function complaintCloseDueAt(createdAt: Date, rules: ComplaintRules, agreed: boolean): Date {
  const h = agreed ? rules.complaints.agreedCloseHours : rules.complaints.closeHours;
  return new Date(createdAt.getTime() + h * 3_600_000);
}

/** The callback is due callbackHours after the complaint was resolved. */
export function complaintCallbackDueAt(resolvedAt: Date, rules: ComplaintRules): Date {
  return new Date(resolvedAt.getTime() + rules.complaints.callbackHours * 3_600_000);
}

export type ComplaintDeadlineKind = 'close' | 'callback';
export const COMPLAINT_DEADLINE_LABEL: Record<ComplaintDeadlineKind, string> = { close: '办结', callback: '回访' };

/** What the clock reads of a complaint. */
export interface ComplaintClock {
  status: ComplaintState;
  closeDueAt: Date;
  callbackDueAt: Date | null;
}

/** The deadline the complaint owes now: closing while open, the callback once resolved, none when closed. */
export function owedComplaintDeadline(c: ComplaintClock): { kind: ComplaintDeadlineKind; dueAt: Date } | null {
  if (COMPLAINT_OPEN_STATES.includes(c.status)) return { kind: 'close', dueAt: c.closeDueAt };
  if (c.status === 'resolved' && c.callbackDueAt) return { kind: 'callback', dueAt: c.callbackDueAt };
  return null;
}

export function isComplaintOverdue(c: ComplaintClock, now: Date): boolean {
  const d = owedComplaintDeadline(c);
  return !!d && d.dueAt.getTime() < now.getTime();
}

// ---- the watch program's tasks (Heihe 004) ----

export const WATCH_TASK_KINDS = ['first_day_visit', 'remeasure'] as const;
export type WatchTaskKind = (typeof WATCH_TASK_KINDS)[number];
export const WATCH_TASK_KIND_LABEL: Record<WatchTaskKind, string> = {
  first_day_visit: '供热首日走访',
  remeasure: '修复后复测室温',
};
