import type { DataSource, EntityManager } from 'typeorm';
import {
  contactPromise,
  formatChinaTime,
  isOverdueForResident,
  maskPhone,
  minutesLeft,
  missedRepairDeadlines,
  nextRepairDeadline,
  REPAIR_CATEGORY_LABEL,
  REPAIR_OPEN_STATES,
  REPAIR_STATE_LABEL,
  REPAIR_TRANSITIONS,
  repairDeadlines,
  residentDeadlines,
  type CompanyRules,
  type RepairState,
  type RepairView,
  type StaffRepairView,
  type StaffRole,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { enqueue, outboxTopic } from '../../platform/outbox';
import { applyTransition, SYSTEM, timeline, type Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { UploadsService } from '../../platform/uploads/service';
import { actorOf, type ResidentPrincipal, type StaffPrincipal } from '../../platform/auth';
import { inScope } from '../../platform/scope';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { IdentityService, Staff } from '../identity';
import type { NotificationsService } from '../notifications';
import type { ModerationService } from '../moderation';
import { RepairAssignment, RepairCallback, RepairTicket } from './entities';

export const STAFF_NOTICE_TOPIC = outboxTopic<{ staffIds: number[]; ticketId: number; kind: string; text: string; key: string }>('repairs.staff_notice');
export const SUBJECT = 'repair';

export interface RepairsOptions {
  ds: DataSource;
  accounts: AccountsService;
  company: CompanyService;
  identity: IdentityService;
  notifications: NotificationsService;
  log: Logger;
  clock: () => Date;
  uploads: UploadsService;
  /** content security of what residents write and photograph */
  moderation: ModerationService;
}

/**
 * What every part of the repairs module shares: the options, row locks, the state moves, staff
 * notices and resident progress messages, dispatch and reopening, and the views.
 */
export class RepairsCore {
  constructor(protected o: RepairsOptions) {}

  protected get ds() {
    return this.o.ds;
  }

  async viewForResident(residentId: number, id: number): Promise<RepairView> {
    const row = await this.ds.getRepository(RepairTicket).findOneBy({ id, residentId });
    if (!row) throw new AppError('REPAIR_NOT_FOUND');
    const [view] = await this.present([row], false);
    // the internal escalation lines (supervisor, department head) are for staff only
    view!.timeline = (await this.timelineOf(id)).filter((x) => !x.internal).map(({ internal: _internal, ...x }) => x);
    return view!;
  }

  async viewForStaff(staff: StaffPrincipal, id: number): Promise<StaffRepairView> {
    const row = await this.ds.getRepository(RepairTicket).findOneBy({ id });
    if (!row || !inScope(staff, row.areaId)) throw new AppError('REPAIR_NOT_FOUND');
    const [view] = (await this.present([row], true)) as StaffRepairView[];
    view!.timeline = (await this.timelineOf(id)).map(({ internal: _internal, ...x }) => x);
    return view!;
  }

  /**
   * Reopened: fresh dispatch/contact/on-site/done clocks, escalation one level per reopen
   * (supervisor, then head); the callback still owed for the round before leaves the agents' list.
   */
  protected async reopen(em: EntityManager, t: RepairTicket, now: Date, why: string) {
    const rules = await this.o.company.rules();
    const due = repairDeadlines({ createdAt: now, category: t.category, emergency: t.emergency, slotEnd: null }, rules);
    const reopenCount = t.reopenCount + 1;
    const level = Math.min(2, Math.max(t.escalationLevel + 1, reopenCount));
    await em.update(RepairTicket, t.id, {
      status: 'reopened',
      reopenCount,
      assignedAt: null,
      contactedAt: null,
      onSiteAt: null,
      resolvedAt: null,
      dispatchDueAt: due.dispatchDueAt,
      contactDueAt: due.contactDueAt,
      onSiteDueAt: due.onSiteDueAt,
      doneDueAt: due.doneDueAt,
      escalationLevel: level,
      escalatedAt: now,
    });
    await em.update(RepairCallback, { ticketId: t.id, status: 'pending' }, { status: 'void' });
    await this.notifyEscalation(em, { ...t, escalationLevel: level }, level, `${why}，已重新派单处理`, `reopen:${reopenCount}`, now);
  }

  /**
   * A new ticket finds its butler/worker by the company's dispatch mode: auto-assigned at once, or
   * offered to the area's butlers and workers to grab (Harbin 003), auto-assigned by the
   * fallback job when nobody grabs it within grabTimeoutMinutes. An emergency never waits in the
   * pool: it goes to the area's emergency crew at once in either mode (Heihe 004: on site in 1 h).
   */
  protected async dispatchNew(em: EntityManager, t: RepairTicket, now: Date) {
    const rules = await this.o.company.rules();
    if (rules.repairs.dispatchMode === 'auto' || t.emergency) return this.autoDispatch(em, t, now);
    const staff = await this.staffOfArea(em, t.areaId, ['butler', 'worker']);
    if (!staff.length) return this.autoDispatch(em, t, now);
    await this.staffNotice(
      em,
      staff.map((s) => s.id),
      t.id,
      'pool',
      `新报修工单 ${t.no} 待抢单（${rules.repairs.grabTimeoutMinutes}分钟内无人抢单将自动派单）`,
      `pool:${t.id}`,
      now,
    );
  }

  protected async autoDispatch(em: EntityManager, t: RepairTicket, now: Date, reason?: string) {
    const role: StaffRole = t.emergency ? 'worker' : 'butler';
    const staff = await this.staffOfArea(em, t.areaId, [role]);
    if (!staff.length) {
      const dispatchers = await this.staffOfArea(em, t.areaId, ['dispatcher']);
      await this.staffNotice(
        em,
        dispatchers.map((s) => s.id),
        t.id,
        'dispatch',
        `工单 ${t.no} 待派单（片区无${t.emergency ? '值班抢修人员' : '管家'}）`,
        `undispatched:${t.id}`,
        now,
      );
      return;
    }
    // least loaded first
    const load = await em
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select('t.assigneeId', 'staffId')
      .addSelect('COUNT(*)', 'n')
      .where('t.assigneeId IN (:...ids)', { ids: staff.map((s) => s.id) })
      .andWhere('t.status IN (:...open)', { open: REPAIR_OPEN_STATES })
      .groupBy('t.assigneeId')
      .getRawMany();
    const n = new Map(load.map((r) => [Number(r.staffId), Number(r.n)]));
    const pick = [...staff].sort((a, b) => (n.get(a.id) ?? 0) - (n.get(b.id) ?? 0) || a.id - b.id)[0]!;
    await applyTransition(
      em,
      REPAIR_TRANSITIONS,
      { type: SUBJECT, id: t.id, state: 'pending' },
      'assigned',
      SYSTEM,
      reason ?? (t.emergency ? '紧急报修，已派值班抢修人员' : '已派片区管家'),
      { staffId: pick.id },
    );
    await em.update(RepairTicket, t.id, { status: 'assigned', assigneeId: pick.id, assignedAt: now });
    await em.insert(RepairAssignment, { ticketId: t.id, staffId: pick.id, kind: 'auto', byStaffId: null, reason: null });
    await this.staffNotice(em, [pick.id], t.id, 'dispatch', `您有新的${t.emergency ? '紧急' : ''}报修工单 ${t.no}`, `assign:${t.id}:${pick.id}:auto`, now);
  }

  /** Active staff with one of the roles serving the area. */
  protected async staffOfArea(em: EntityManager, areaId: number, roles: StaffRole[]): Promise<Staff[]> {
    return (await this.o.identity.staffOfAreas([areaId], { roles, em })).map((x) => x.staff);
  }

  protected async admins(em: EntityManager): Promise<Staff[]> {
    return this.o.identity.activeAdmins(em);
  }

  protected async notifyEscalation(em: EntityManager, t: RepairTicket, level: number, text: string, key: string, now: Date) {
    const to = level >= 2 ? await this.admins(em) : await this.staffOfArea(em, t.areaId, ['dispatcher']);
    await this.staffNotice(
      em,
      to.map((s) => s.id),
      t.id,
      'escalation',
      `【${level >= 2 ? '部门负责人' : '主管'}】${text}`,
      `esc:${t.id}:${key}`,
      now,
    );
  }

  protected async staffNotice(em: EntityManager, staffIds: number[], ticketId: number, kind: string, text: string, key: string, now: Date) {
    if (!staffIds.length) return;
    await enqueue(em, STAFF_NOTICE_TOPIC, { staffIds, ticketId, kind, text, key }, { dedupeKey: `repair-notice:${key}`.slice(0, 128), now });
  }

  protected async residentProgress(em: EntityManager, t: RepairTicket, phrase: string, detail: string, now: Date) {
    await this.o.notifications.toResident(
      em,
      t.residentId,
      'repairProgress',
      { character_string1: t.no, thing2: detail.slice(0, 20), phrase3: phrase.slice(0, 5), time4: formatChinaTime(now) },
      { page: `pages/repairs/detail?id=${t.id}`, dedupeKey: `repair:${t.id}:${phrase}:${now.getTime()}`, now },
    );
  }

  protected async lockTicket(em: EntityManager, id: number, who: { residentId?: number; staff?: StaffPrincipal }): Promise<RepairTicket> {
    const t = await forUpdate(em.createQueryBuilder(RepairTicket, 't').where('t.id = :id', { id })).getOne();
    if (!t) throw new AppError('REPAIR_NOT_FOUND');
    if (who.residentId !== undefined && t.residentId !== who.residentId) throw new AppError('REPAIR_NOT_FOUND');
    if (who.staff && !inScope(who.staff, t.areaId)) throw new AppError('REPAIR_NOT_FOUND');
    return t;
  }

  /** The ticket, locked, if the caller holds it (admins may act on any). */
  protected async lockAssigned(em: EntityManager, staff: StaffPrincipal, id: number): Promise<RepairTicket> {
    const t = await this.lockTicket(em, id, { staff });
    if (t.assigneeId !== staff.staffId && !staff.roles.includes('admin')) throw new AppError('FORBIDDEN');
    return t;
  }

  protected async fieldMove(staff: StaffPrincipal, id: number, to: RepairState, reason: string, patch: Partial<RepairTicket>) {
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, to, actorOf(staff), reason);
      await em.update(RepairTicket, id, { status: to, ...patch });
    });
  }

  protected async move(id: number, who: { resident?: ResidentPrincipal }, to: RepairState, actor: Actor, reason: string) {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: who.resident?.residentId });
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, to, actor, reason);
      await em.update(RepairTicket, id, { status: to, ...(to === 'cancelled' || to === 'closed' ? { closedAt: now } : {}) });
    });
  }

  /** The ticket's history; `internal`: an escalation line (staff only). A same-state entry is an escalation, a 催单 or a 改约. */
  protected async timelineOf(id: number) {
    const rows = await timeline(this.ds.manager, SUBJECT, id);
    return rows.map((r) => {
      const data = (r.data ?? {}) as { escalationLevel?: number; event?: 'urge' | 'reschedule' };
      const same = r.fromState === r.toState;
      const label = !same
        ? (REPAIR_STATE_LABEL[r.toState as RepairState] ?? r.toState)
        : data.event === 'urge'
          ? '住户催单'
          : data.event === 'reschedule'
            ? '修改预约'
            : '工单升级';
      return { state: r.toState as RepairState, label, at: r.at.toISOString(), reason: r.reason, internal: same && !data.event };
    });
  }

  protected async present(rows: RepairTicket[], forStaff: boolean): Promise<RepairView[] | StaffRepairView[]> {
    if (!rows.length) return [];
    const now = this.o.clock();
    const accounts = (await Promise.all([...new Set(rows.map((r) => r.accountId))].map((id) => this.o.accounts.account(id)))).filter((a) => !!a);
    const ctx = await this.o.accounts.addressContext(accounts);
    const byAccount = new Map(accounts.map((a) => [a.id, a]));
    const staffIds = [...new Set(rows.map((r) => r.assigneeId).filter((x): x is number => x !== null))];
    const staff = new Map((await this.o.identity.staffByIds(staffIds)).map((s) => [s.id, s]));
    const rules = await this.o.company.rules();
    return rows.map((t) => {
      const account = byAccount.get(t.accountId);
      const overdue = isOverdueForResident(t, now);
      // never a promise of a time already past: the page says it is overdue instead
      const waitingForCall = !t.contactedAt && ['pending', 'assigned', 'reopened'].includes(t.status) && t.contactDueAt.getTime() >= now.getTime();
      const base: RepairView = {
        id: t.id,
        no: t.no,
        accountId: t.accountId,
        address: account ? ctx.address(account) : '',
        category: t.category,
        categoryLabel: REPAIR_CATEGORY_LABEL[t.category],
        emergency: t.emergency,
        description: t.description,
        photos: t.photos.map((p) => this.o.uploads.link(p)),
        slotStart: t.slotStart?.toISOString() ?? null,
        slotEnd: t.slotEnd?.toISOString() ?? null,
        contactPhoneMasked: maskPhone(t.contactPhone),
        residentReadingC: t.residentReadingDeciC === null ? null : t.residentReadingDeciC / 10,
        status: t.status,
        statusLabel: REPAIR_STATE_LABEL[t.status],
        assigneeName: t.assigneeId ? (staff.get(t.assigneeId)?.name ?? null) : null,
        side: t.side,
        priceItems: t.priceItems,
        priceFen: t.priceFen,
        consentAt: t.consentAt?.toISOString() ?? null,
        dispatchDueAt: t.dispatchDueAt?.toISOString() ?? null,
        contactDueAt: t.contactDueAt.toISOString(),
        onSiteDueAt: t.onSiteDueAt?.toISOString() ?? null,
        doneDueAt: t.doneDueAt.toISOString(),
        deadlines: residentDeadlines(t, now).map((d) => ({ ...d, dueAt: d.dueAt.toISOString(), metAt: d.metAt?.toISOString() ?? null })),
        overdue,
        promise: waitingForCall ? contactPromise(t.contactDueAt, now) : null,
        urge: urgeState(t, overdue, now, rules),
        reschedule: rescheduleState(t, now, rules),
        resolution: t.resolution,
        resolutionPhotos: (t.resolutionPhotos ?? []).map((p) => this.o.uploads.link(p)),
        rating: t.rating,
        ratingComment: t.ratingComment,
        unsatisfiedBelowStars: rules.repairs.unsatisfiedBelowStars,
        createdAt: t.createdAt.toISOString(),
      };
      if (!forStaff) return base;
      const next = nextRepairDeadline(t);
      const view: StaffRepairView = {
        ...base,
        areaId: t.areaId,
        assigneeId: t.assigneeId,
        contactPhone: t.contactPhone,
        escalationLevel: t.escalationLevel,
        minutesLeft: minutesLeft(next, now),
        // staff also owe the emergency result report
        overdue: missedRepairDeadlines(t, now).length > 0,
        reportDueAt: t.reportDueAt?.toISOString() ?? null,
        reportedAt: t.reportedAt?.toISOString() ?? null,
      };
      return view;
    }) as RepairView[] | StaffRepairView[];
  }
}

/** 催单: an open ticket past a promise, once per the company's urgeIntervalMinutes. */
export function urgeState(t: RepairTicket, overdue: boolean, now: Date, rules: CompanyRules): RepairView['urge'] {
  const nextAt = t.lastUrgedAt ? new Date(t.lastUrgedAt.getTime() + rules.repairs.urgeIntervalMinutes * 60_000) : null;
  const waiting = !!nextAt && nextAt.getTime() > now.getTime();
  return {
    allowed: overdue && REPAIR_OPEN_STATES.includes(t.status) && !waiting,
    nextAt: waiting ? nextAt.toISOString() : null,
    count: t.urgeCount,
    lastAt: t.lastUrgedAt?.toISOString() ?? null,
  };
}

/** States in which the resident may still move the visit (nobody is on site yet). */
export const RESCHEDULABLE: readonly RepairState[] = ['pending', 'assigned', 'contacted'];

/** 改约 (Zibo 001): a routine ticket before the visit, the company's number of changes, at least appointmentNoticeMinutes before the booked visit. */
export function rescheduleState(t: RepairTicket, now: Date, rules: CompanyRules): RepairView['reschedule'] {
  const { appointmentChanges, appointmentNoticeMinutes } = rules.repairs;
  const left = Math.max(0, appointmentChanges - t.slotChanges);
  const inTime = !t.slotStart || t.slotStart.getTime() - now.getTime() >= appointmentNoticeMinutes * 60_000;
  return { allowed: !t.emergency && RESCHEDULABLE.includes(t.status) && left > 0 && inTime, left, noticeMinutes: appointmentNoticeMinutes };
}
