/**
 * Complaints (投诉): a ticket type of its own beside repairs, with its own clocks (Changchun 000:
 * closed within 24 h, 72 h with the resident's agreement, callback within 24 h; Harbin 003: 24 h,
 * at most 48 h — company settings `complaints.*`), a source (the app, 12345, 12319, the phone) and
 * the hotline's ticket number, escalation of overdue complaints (supervisor, then the department
 * head after `repairs.escalateToHeadMinutes`, as repairs do), and a timeline of every move.
 */
import crypto from 'node:crypto';
import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  COMPLAINT_DEADLINE_LABEL,
  COMPLAINT_OPEN_STATES,
  COMPLAINT_SOURCE_LABEL,
  COMPLAINT_STATE_LABEL,
  COMPLAINT_TRANSITIONS,
  complaintCallbackDueAt,
  complaintCloseDueAt,
  FileComplaintRequest,
  formatChinaTime,
  isComplaintOverdue,
  owedComplaintDeadline,
  StaffFileComplaintRequest,
  type ComplaintCallbackRequest,
  type ComplaintSource,
  type ComplaintState,
  type ComplaintView,
  type StaffComplaintQuery,
  type StaffComplaintView,
} from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { applyTransition, recordTransition, SYSTEM, timeline, type Actor } from '../../platform/state';
import { actorOf, type ResidentPrincipal, type StaffPrincipal } from '../../platform/auth';
import { inScope, scopeToAreas } from '../../platform/scope';
import type { Account, AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { IdentityService } from '../identity';
import type { ModerationService } from '../moderation';
import type { NotificationsService } from '../notifications';
import type { RepairsService } from '../repairs';
import { Complaint } from './entities';
import { presentComplaints } from './views';

export const SUBJECT = 'complaint';

export interface ComplaintsOptions {
  ds: DataSource;
  accounts: AccountsService;
  company: CompanyService;
  identity: IdentityService;
  moderation: ModerationService;
  /** escalations reach staff through the repairs' staff notices (升级提醒) */
  repairs: RepairsService;
  /** the resident who filed it hears the answer (投诉处理进度通知) */
  notifications: NotificationsService;
  clock: () => Date;
}

type Filing = {
  residentId: number | null;
  staff: StaffPrincipal | null;
  source: ComplaintSource;
  externalNo: string | null;
  content: string;
  phone: string | null;
};

export class ComplaintsService {
  constructor(private o: ComplaintsOptions) {}

  private get ds() {
    return this.o.ds;
  }

  // ---- residents ----

  async fileByResident(resident: ResidentPrincipal, input: FileComplaintRequest): Promise<ComplaintView> {
    const req = FileComplaintRequest.parse(input);
    const account = await this.o.accounts.assertBound(resident.residentId, req.accountId);
    const checked = await this.o.moderation.checkText(resident.residentId, req.content, { subjectType: 'complaint', scene: 1, areaId: account.areaId });
    const id = await this.insert(account, {
      residentId: resident.residentId,
      staff: null,
      source: 'app',
      externalNo: null,
      content: req.content,
      phone: req.contactPhone ?? null,
    });
    if (checked) await this.o.moderation.link([checked.recordId], id);
    return this.viewForResident(resident.residentId, id);
  }

  /** The complaints about the resident's bound households (also those staff registered from a hotline). */
  async listForResident(residentId: number): Promise<{ items: ComplaintView[] }> {
    const accountIds = (await this.o.accounts.listBound(residentId)).map((a) => a.accountId);
    if (!accountIds.length) return { items: [] };
    const rows = await this.ds.getRepository(Complaint).find({ where: { accountId: In(accountIds) }, order: { id: 'DESC' }, take: 100 });
    return { items: await this.present(rows, false) };
  }

  async viewForResident(residentId: number, id: number): Promise<ComplaintView> {
    const row = await this.ds.getRepository(Complaint).findOneBy({ id });
    if (!row) throw new AppError('COMPLAINT_NOT_FOUND');
    const bound = (await this.o.accounts.listBound(residentId)).some((a) => a.accountId === row.accountId);
    if (!bound) throw new AppError('COMPLAINT_NOT_FOUND');
    const [view] = await this.present([row], false);
    view!.timeline = await this.timelineOf(id);
    return view!;
  }

  // ---- staff ----

  /** A hotline (12345/12319) or phone complaint registered for a household of the staff member's areas. */
  async fileByStaff(staff: StaffPrincipal, input: z.input<typeof StaffFileComplaintRequest>): Promise<StaffComplaintView> {
    const req = StaffFileComplaintRequest.parse(input);
    const account = await this.o.accounts.account(req.accountId);
    if (!account || !inScope(staff, account.areaId)) throw new AppError('ACCOUNT_NOT_FOUND');
    const id = await this.insert(account, {
      residentId: null,
      staff,
      source: req.source,
      externalNo: req.externalNo ?? null,
      content: req.content,
      phone: req.contactPhone ?? null,
    });
    return this.viewForStaff(staff, id);
  }

  async listForStaff(staff: StaffPrincipal, q: z.output<typeof StaffComplaintQuery>) {
    const now = this.o.clock();
    const qb = this.ds.getRepository(Complaint).createQueryBuilder('c');
    scopeToAreas(qb, 'c.areaId', staff);
    if (q.status) qb.andWhere('c.status = :status', { status: q.status });
    if (q.escalated === '1') qb.andWhere('c.escalationLevel > 0');
    if (q.overdue === '1')
      qb.andWhere("((c.status IN ('open', 'processing') AND c.closeDueAt < :now) OR (c.status = 'resolved' AND c.callbackDueAt < :now))", { now });
    const [rows, total] = await qb
      .orderBy('c.id', 'DESC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    return { items: (await this.present(rows, true)) as StaffComplaintView[], total, page: q.page, pageSize: q.pageSize };
  }

  async viewForStaff(staff: StaffPrincipal, id: number): Promise<StaffComplaintView> {
    const row = await this.ds.getRepository(Complaint).findOneBy({ id });
    if (!row || !inScope(staff, row.areaId)) throw new AppError('COMPLAINT_NOT_FOUND');
    const [view] = (await this.present([row], true)) as StaffComplaintView[];
    view!.timeline = await this.timelineOf(id);
    return view!;
  }

  /** A handler takes the complaint (受理 → 处理中). */
  async take(staff: StaffPrincipal, id: number): Promise<StaffComplaintView> {
    await this.move(staff, id, 'processing', `${staff.name}开始处理`, () => ({ handlerId: staff.staffId }));
    return this.viewForStaff(staff, id);
  }

  /** The resident agreed to a longer deadline (Changchun 000: 72 h): recorded once, with who and what was said. */
  async extend(staff: StaffPrincipal, id: number, note: string): Promise<StaffComplaintView> {
    const rules = await this.o.company.rules();
    await withTx(this.ds, async (em) => {
      const c = await this.lock(em, staff, id);
      if (!COMPLAINT_OPEN_STATES.includes(c.status)) throw new AppError('INVALID_TRANSITION', { from: c.status, to: c.status });
      if (c.extended) throw new AppError('COMPLAINT_ALREADY_EXTENDED');
      const closeDueAt = complaintCloseDueAt(c.createdAt, rules, true);
      await em.update(Complaint, id, { extended: true, agreementNote: note, closeDueAt });
      await recordTransition(
        em,
        SUBJECT,
        id,
        c.status,
        c.status,
        actorOf(staff),
        `住户同意延长办结时限至${rules.complaints.agreedCloseHours}小时：${note}`.slice(0, 200),
        {
          closeDueAt: closeDueAt.toISOString(),
        },
      );
    });
    return this.viewForStaff(staff, id);
  }

  async resolve(staff: StaffPrincipal, id: number, resolution: string): Promise<StaffComplaintView> {
    const now = this.o.clock();
    const rules = await this.o.company.rules();
    await this.move(
      staff,
      id,
      'resolved',
      resolution.slice(0, 200),
      (c) => ({
        resolvedAt: now,
        resolution,
        callbackDueAt: complaintCallbackDueAt(now, rules),
        handlerId: c.handlerId ?? staff.staffId,
      }),
      // the answer goes to the resident who filed it in the mini-program (a hotline complaint has none:
      // the callback reaches them by phone); after commit, by the outbox, if they allowed the message
      async (em, c) => {
        if (c.residentId === null) return;
        await this.o.notifications.toResident(
          em,
          c.residentId,
          'complaintProgress',
          { character_string1: c.no, thing2: resolution.slice(0, 20), phrase3: '已答复', time4: formatChinaTime(now) },
          { page: `pages/complaints/detail?id=${c.id}`, dedupeKey: `complaint:${c.id}:answered:r${c.reopenCount}`, now },
        );
      },
    );
    return this.viewForStaff(staff, id);
  }

  /**
   * The callback (within callbackHours of the answer): satisfied or unreachable closes the
   * complaint; unsatisfied sends it back to processing with fresh clocks, straight to the
   * department head (Heihe 004: unsatisfied → the department head until solved).
   */
  async callback(staff: StaffPrincipal, id: number, req: z.output<typeof ComplaintCallbackRequest>): Promise<StaffComplaintView> {
    const now = this.o.clock();
    const rules = await this.o.company.rules();
    const note = req.notes ? `：${req.notes}` : '';
    if (req.outcome === 'unsatisfied') {
      await this.move(
        staff,
        id,
        'processing',
        `回访不满意，升级至部门负责人${note}`.slice(0, 200),
        (c) => ({
          callbackOutcome: 'unsatisfied',
          resolvedAt: null,
          callbackDueAt: null,
          reopenCount: c.reopenCount + 1,
          escalationLevel: 2,
          escalatedAt: now,
          closeDueAt: complaintCloseDueAt(now, rules, false),
        }),
        (em, c) =>
          this.o.repairs.notifyEscalation(
            em,
            { kind: 'complaint', subjectId: id, areaId: c.areaId, level: 2, text: `投诉 ${c.no} 回访不满意，请督办`, key: `unsatisfied:r${c.reopenCount + 1}` },
            now,
          ),
      );
    } else {
      const label = req.outcome === 'satisfied' ? '回访满意，办结' : '回访未联系上住户，办结';
      await this.move(staff, id, 'closed', `${label}${note}`.slice(0, 200), () => ({ callbackOutcome: req.outcome, closedAt: now }));
    }
    return this.viewForStaff(staff, id);
  }

  /**
   * Escalate complaints past their deadline, as repairs do: first to the supervisor, then, still
   * overdue `repairs.escalateToHeadMinutes` later, to the department head. Each level is recorded
   * on the timeline once; safe on several instances (row locks).
   */
  async escalateOverdue(now: Date = this.o.clock()): Promise<{ escalated: number }> {
    const candidates = await this.ds
      .getRepository(Complaint)
      .createQueryBuilder('c')
      .select(['c.id'])
      .where('c.escalationLevel < 2')
      .andWhere("((c.status IN ('open', 'processing') AND c.closeDueAt < :now) OR (c.status = 'resolved' AND c.callbackDueAt < :now))", { now })
      .getMany();
    const toHeadMs = (await this.o.company.rules()).repairs.escalateToHeadMinutes * 60_000;
    let escalated = 0;
    for (const { id } of candidates) {
      const done = await withTx(this.ds, async (em) => {
        const c = await forUpdate(em.createQueryBuilder(Complaint, 'c').where('c.id = :id', { id })).getOne();
        if (!c || !isComplaintOverdue(c, now)) return false;
        let level: number;
        if (c.escalationLevel === 0) level = 1;
        else if (c.escalationLevel === 1 && c.escalatedAt && now.getTime() - c.escalatedAt.getTime() >= toHeadMs) level = 2;
        else return false;
        const missed = COMPLAINT_DEADLINE_LABEL[owedComplaintDeadline(c)!.kind];
        await em.update(Complaint, id, { escalationLevel: level, escalatedAt: now });
        await recordTransition(em, SUBJECT, id, c.status, c.status, SYSTEM, `${missed}超时，升级至${level === 1 ? '主管' : '部门负责人'}`, {
          escalationLevel: level,
        });
        await this.o.repairs.notifyEscalation(
          em,
          {
            kind: 'complaint',
            subjectId: id,
            areaId: c.areaId,
            level: level === 1 ? 1 : 2,
            text: `投诉 ${c.no} ${missed}已超时`,
            key: `overdue:${level}:r${c.reopenCount}`,
          },
          now,
        );
        return true;
      });
      if (done) escalated++;
    }
    return { escalated };
  }

  /** Households that complained in [from, to), by building (the hazard ledger counts them with repair tickets). */
  async complainingHouseholds(
    from: Date,
    to: Date,
    areaIds: number[] | 'all',
  ): Promise<{ accountId: number; areaId: number; buildingId: number; complaints: number }[]> {
    if (areaIds !== 'all' && !areaIds.length) return [];
    const qb = this.ds
      .getRepository(Complaint)
      .createQueryBuilder('c')
      .select('c.accountId', 'accountId')
      .addSelect('c.areaId', 'areaId')
      .addSelect('c.buildingId', 'buildingId')
      .addSelect('COUNT(*)', 'n')
      .where('c.createdAt >= :from AND c.createdAt < :to', { from, to });
    if (areaIds !== 'all') qb.andWhere('c.areaId IN (:...areaIds)', { areaIds });
    const rows = await qb.groupBy('c.accountId').addGroupBy('c.areaId').addGroupBy('c.buildingId').getRawMany();
    return rows.map((r) => ({ accountId: Number(r.accountId), areaId: Number(r.areaId), buildingId: Number(r.buildingId), complaints: Number(r.n) }));
  }

  // ---- internals ----

  private async insert(account: Account, f: Filing): Promise<number> {
    const rules = await this.o.company.rules();
    const now = this.o.clock();
    const actor: Actor = f.staff ? actorOf(f.staff) : { kind: 'resident', id: f.residentId, as: ['resident'] };
    try {
      return await withTx(this.ds, async (em) => {
        const row = em.create(Complaint, {
          no: 'TS' + crypto.randomBytes(6).toString('hex').toUpperCase(),
          accountId: account.id,
          areaId: account.areaId,
          buildingId: account.buildingId,
          residentId: f.residentId,
          createdByStaffId: f.staff?.staffId ?? null,
          source: f.source,
          externalNo: f.externalNo,
          content: f.content,
          contactPhone: f.phone ?? account.contactPhone ?? '',
          status: 'open',
          handlerId: null,
          closeDueAt: complaintCloseDueAt(now, rules, false),
          extended: false,
          agreementNote: null,
          resolvedAt: null,
          resolution: null,
          callbackDueAt: null,
          callbackOutcome: null,
          closedAt: null,
          escalationLevel: 0,
          escalatedAt: null,
          reopenCount: 0,
          createdAt: now,
        });
        const saved = await em.save(row);
        const who = f.staff
          ? `${f.staff.name}登记${COMPLAINT_SOURCE_LABEL[f.source]}投诉${f.externalNo ? `（工单号 ${f.externalNo}）` : ''}`
          : '住户在小程序提交投诉';
        await recordTransition(em, SUBJECT, saved.id, null, 'open', actor, who);
        return saved.id;
      });
    } catch (err) {
      if (isUniqueViolation(err) && f.externalNo) throw new AppError('COMPLAINT_DUPLICATE_EXTERNAL_NO');
      throw err;
    }
  }

  private async lock(em: EntityManager, staff: StaffPrincipal, id: number): Promise<Complaint> {
    const c = await forUpdate(em.createQueryBuilder(Complaint, 'c').where('c.id = :id', { id })).getOne();
    if (!c || !inScope(staff, c.areaId)) throw new AppError('COMPLAINT_NOT_FOUND');
    return c;
  }

  private async move(
    staff: StaffPrincipal,
    id: number,
    to: ComplaintState,
    reason: string,
    patch: (c: Complaint) => Partial<Complaint>,
    after?: (em: EntityManager, c: Complaint) => Promise<void>,
  ) {
    await withTx(this.ds, async (em) => {
      const c = await this.lock(em, staff, id);
      await applyTransition(em, COMPLAINT_TRANSITIONS, { type: SUBJECT, id, state: c.status }, to, actorOf(staff), reason);
      await em.update(Complaint, id, { status: to, ...patch(c) });
      if (after) await after(em, c);
    });
  }

  private async timelineOf(id: number) {
    const rows = await timeline(this.ds.manager, SUBJECT, id);
    return rows.map((r) => ({
      state: r.toState as ComplaintState,
      label: r.fromState === r.toState ? '进展' : (COMPLAINT_STATE_LABEL[r.toState as ComplaintState] ?? r.toState),
      at: r.at.toISOString(),
      reason: r.reason,
    }));
  }

  private present(rows: Complaint[], forStaff: boolean): Promise<ComplaintView[] | StaffComplaintView[]> {
    return presentComplaints(this.o, rows, forStaff);
  }
}
