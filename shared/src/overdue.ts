/**
 * "Overdue" for repair tickets, defined once: the staff dashboard, the repairs list (its 已超时 tab
 * and red tag), the SLA escalation job and the staff pages all use this rule.
 *
 * A ticket owes the deadlines it has not met yet: while waiting for a butler/worker (pending or
 * reopened) the dispatch deadline; while open (REPAIR_OPEN_STATES) the contact, on-site and done deadlines; after it is resolved (or closed), an emergency owes its result
 * report until it is submitted. It is overdue when one of the deadlines it owes has passed, and
 * due soon when the earliest one is less than REPAIR_DUE_SOON_MINUTES away.
 */
import { REPAIR_OPEN_STATES, type RepairState } from './repairs';

/** "1小时内到期" on the dashboard. */
export const REPAIR_DUE_SOON_MINUTES = 60;

export type RepairDeadlineKind = 'dispatch' | 'contact' | 'on_site' | 'done' | 'report';
export const REPAIR_DEADLINE_LABEL: Record<RepairDeadlineKind, string> = {
  dispatch: '派单',
  contact: '联系',
  on_site: '上门',
  done: '完工',
  report: '处置结果汇报',
};
/** States in which the ticket waits for a butler/worker (the dispatch clock runs). */
export const REPAIR_UNDISPATCHED_STATES: readonly RepairState[] = ['pending', 'reopened'];

/** What the rule reads of a ticket (dates or ISO strings). */
export interface RepairClock {
  status: RepairState;
  /** tickets booked before the dispatch clock existed have none */
  dispatchDueAt?: Date | null;
  contactedAt: Date | null;
  contactDueAt: Date;
  onSiteAt: Date | null;
  onSiteDueAt: Date | null;
  resolvedAt: Date | null;
  doneDueAt: Date;
  reportedAt: Date | null;
  reportDueAt: Date | null;
}

export type DeadlineState = 'overdue' | 'due_soon' | 'on_time';

/** The deadlines the ticket still owes, earliest first. */
export function owedRepairDeadlines(t: RepairClock): { kind: RepairDeadlineKind; dueAt: Date }[] {
  const out: { kind: RepairDeadlineKind; dueAt: Date }[] = [];
  if (REPAIR_OPEN_STATES.includes(t.status)) {
    if (t.dispatchDueAt && REPAIR_UNDISPATCHED_STATES.includes(t.status)) out.push({ kind: 'dispatch', dueAt: t.dispatchDueAt });
    if (!t.contactedAt) out.push({ kind: 'contact', dueAt: t.contactDueAt });
    if (!t.onSiteAt && t.onSiteDueAt) out.push({ kind: 'on_site', dueAt: t.onSiteDueAt });
    if (!t.resolvedAt) out.push({ kind: 'done', dueAt: t.doneDueAt });
  } else if ((t.status === 'resolved' || t.status === 'closed') && !t.reportedAt && t.reportDueAt) {
    out.push({ kind: 'report', dueAt: t.reportDueAt });
  }
  return out.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime());
}

/** The deadlines already missed (empty: not overdue). */
export function missedRepairDeadlines(t: RepairClock, now: Date): RepairDeadlineKind[] {
  return owedRepairDeadlines(t)
    .filter((d) => d.dueAt.getTime() < now.getTime())
    .map((d) => d.kind);
}

export function isRepairOverdue(t: RepairClock, now: Date): boolean {
  return missedRepairDeadlines(t, now).length > 0;
}

/** The earliest deadline the ticket still owes, or null when it owes none. */
export function nextRepairDeadline(t: RepairClock): Date | null {
  return owedRepairDeadlines(t)[0]?.dueAt ?? null;
}

/** Overdue / due soon / on time by the earliest owed deadline; null when the ticket owes none. */
export function repairDeadlineState(t: RepairClock, now: Date): DeadlineState | null {
  return deadlineState(nextRepairDeadline(t), now);
}

/** The state of one deadline at `now` (also for a page holding only the deadline). */
export function deadlineState(due: Date | null, now: Date): DeadlineState | null {
  if (!due) return null;
  const left = due.getTime() - now.getTime();
  if (left < 0) return 'overdue';
  return left < REPAIR_DUE_SOON_MINUTES * 60_000 ? 'due_soon' : 'on_time';
}

/**
 * The same rule for a page that has the minutes left to the earliest owed deadline
 * (`minutesLeft`, floored: negative exactly when the deadline has passed).
 */
export function minutesLeftState(minutesLeft: number | null): DeadlineState | null {
  if (minutesLeft === null) return null;
  if (minutesLeft < 0) return 'overdue';
  return minutesLeft < REPAIR_DUE_SOON_MINUTES ? 'due_soon' : 'on_time';
}

/** "已超时 1小时5分" / "剩余 20分钟" for staff lists. */
export function formatMinutesLeft(minutesLeft: number | null): string {
  if (minutesLeft === null) return '';
  const m = Math.abs(minutesLeft);
  const text = m >= 60 ? `${Math.floor(m / 60)}小时${m % 60}分` : `${m}分钟`;
  return minutesLeft < 0 ? `已超时 ${text}` : `剩余 ${text}`;
}

/** What the resident's page reads of a ticket: the clock and when each promise was kept. */
export interface RepairPromises extends RepairClock {
  assignedAt: Date | null;
}

export type ResidentDeadlineKind = 'dispatch' | 'contact' | 'on_site' | 'done';
export const RESIDENT_DEADLINE_LABEL: Record<ResidentDeadlineKind, string> = { dispatch: '派单', contact: '联系您', on_site: '上门', done: '完工' };

/**
 * Every deadline promised to the resident (dispatch, contact, on site, done), in order, with when
 * it was kept: met / late (kept after the deadline) / pending / overdue. A cancelled ticket
 * promises nothing. The emergency result report is internal and not listed.
 */
export function residentDeadlines(
  t: RepairPromises,
  now: Date,
): { kind: ResidentDeadlineKind; label: string; dueAt: Date; metAt: Date | null; state: 'met' | 'late' | 'pending' | 'overdue' }[] {
  if (t.status === 'cancelled') return [];
  const rows: [ResidentDeadlineKind, Date | null | undefined, Date | null][] = [
    ['dispatch', t.dispatchDueAt, t.assignedAt],
    ['contact', t.contactDueAt, t.contactedAt],
    ['on_site', t.onSiteDueAt, t.onSiteAt],
    ['done', t.doneDueAt, t.resolvedAt],
  ];
  return rows
    .filter((r): r is [ResidentDeadlineKind, Date, Date | null] => !!r[1])
    .map(([kind, dueAt, metAt]) => ({
      kind,
      label: RESIDENT_DEADLINE_LABEL[kind],
      dueAt,
      metAt,
      state: metAt ? (metAt.getTime() <= dueAt.getTime() ? 'met' : 'late') : dueAt.getTime() < now.getTime() ? 'overdue' : 'pending',
    }));
}

/** Overdue as the resident sees it: a promise to them (not the internal report) has passed unkept. */
export function isOverdueForResident(t: RepairClock, now: Date): boolean {
  return missedRepairDeadlines(t, now).some((k) => k !== 'report');
}
