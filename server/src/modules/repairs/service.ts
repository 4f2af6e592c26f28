import crypto from 'node:crypto';
import { Brackets, In, type DataSource, type EntityManager } from 'typeorm';
import {
  callbackSchedule,
  contactPromise,
  CreateRepairRequest,
  ESCALATE_TO_HEAD_AFTER_MINUTES,
  formatChinaTime,
  isEmergency,
  maskPhone,
  minutesLeft,
  REPAIR_CATEGORY_LABEL,
  REPAIR_OPEN_STATES,
  REPAIR_PRICE_LIST,
  REPAIR_STATE_LABEL,
  REPAIR_TRANSITIONS,
  repairDeadlines,
  slotProblem,
  chinaDate,
  inQuietHours,
  type CallbackDoneRequest,
  type ResolveRequest,
  type SideRequest,
  type RateRepairRequest,
  type RepairState,
  type RepairView,
  type StaffRepairView,
  type StaffRole,
} from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { enqueue, outboxTopic, type OutboxWorker } from '../../platform/outbox';
import { applyTransition, recordTransition, SYSTEM, timeline, type Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { UploadsService } from '../../platform/uploads/service';
import type { ResidentPrincipal, StaffPrincipal } from '../../platform/auth';
import { actorOf, staffAreaFilter } from '../../platform/auth';
import { inScope, scopeToAreas } from '../../platform/scope';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { IdentityService, Staff } from '../identity';
import type { NotificationsService } from '../notifications';
import { RepairAssignment, RepairCallback, RepairStaffNotice, RepairTicket } from './entities';
import { RepairInsights } from './insights';
import type { ModerationService, PhotoVerdict } from '../moderation';

export const STAFF_NOTICE_TOPIC = outboxTopic<{ staffIds: number[]; ticketId: number; kind: string; text: string; key: string }>('repairs.staff_notice');
const SUBJECT = 'repair';

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

type CreateInput = z.output<typeof CreateRepairRequest>;

/**
 * Repairs: booking, dispatch (routine → the area's butler, emergency → the area's crew), grab
 * orders, resident-side consent, closing loop with rating and callbacks, SLA escalation.
 */
export class RepairsService {
  /** watch list and SLA reports (read side) */
  readonly insights: RepairInsights;

  constructor(private o: RepairsOptions) {
    this.insights = new RepairInsights(o);
  }

  private get ds() {
    return this.o.ds;
  }

  register(outbox: OutboxWorker): void {
    this.o.moderation.onPhotoVerdict('repair', (v) => this.onPhotoVerdict(v.subjectId, v.photo, v.verdict));
    outbox.register(STAFF_NOTICE_TOPIC, async (p: { staffIds: number[]; ticketId: number; kind: string; text: string; key: string }) => {
      for (const staffId of p.staffIds) {
        try {
          await this.ds.getRepository(RepairStaffNotice).insert({ staffId, ticketId: p.ticketId, kind: p.kind, text: p.text.slice(0, 200), dedupeKey: p.key, readAt: null });
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
    });
  }

  // ---- resident -----------------------------------------------------------------------------

  /**
   * Staff book a repair for a resident (e.g. from a 管家群 message): the same booking as the
   * resident's own, on an account the resident has bound in one of the staff member's areas;
   * the timeline records the staff member as the one who registered it.
   */
  async bookForResident(staff: StaffPrincipal, residentId: number, accountId: number, input: Omit<CreateRepairRequest, 'accountId'>): Promise<RepairView> {
    const account = await this.o.accounts.assertBound(residentId, accountId);
    if (!inScope(staff, account.areaId)) throw new AppError('NOT_FOUND');
    const resident: ResidentPrincipal = { kind: 'resident', residentId, sessionId: 0, openid: '' };
    return this.create(resident, { ...input, accountId }, { actor: actorOf(staff), reason: `${staff.name}代住户登记报修` });
  }

  async create(resident: ResidentPrincipal, input: CreateRepairRequest, by?: { actor: Actor; reason: string }): Promise<RepairView> {
    const req: CreateInput = CreateRepairRequest.parse(input);
    const now = this.o.clock();
    const account = await this.o.accounts.assertBound(resident.residentId, req.accountId);
    const rules = await this.o.company.rules();
    const slotStart = req.slotStart ? new Date(req.slotStart) : null;
    const slotEnd = req.slotEnd ? new Date(req.slotEnd) : null;
    if (slotStart && slotEnd) {
      const problem = slotProblem(slotStart, slotEnd, now, rules.sla);
      if (problem) throw new AppError('REPAIR_SLOT_INVALID', { fields: [{ field: 'slotStart', message: problem }] });
    }
    // a resident's photos; a 管家群 photo turned into a repair keeps its chat upload
    await this.o.uploads.claim(req.photos, { kind: 'resident', id: resident.residentId }, ['repair_photo', 'chat_photo']);
    // content security of the resident's own words (risky is refused); staff bookings are staff text
    const checked = by ? null : await this.o.moderation.checkText(resident.residentId, req.description, { subjectType: 'repair', scene: 1, areaId: account.areaId });
    const emergency = isEmergency(req.category, req.emergency);
    const due = repairDeadlines({ createdAt: now, emergency, slotEnd }, rules);
    const id = await withTx(this.ds, async (em) => {
      const row = em.create(RepairTicket, {
        no: 'BX' + crypto.randomBytes(6).toString('hex').toUpperCase(),
        residentId: resident.residentId,
        accountId: account.id,
        areaId: account.areaId,
        buildingId: account.buildingId,
        category: req.category,
        emergency,
        description: req.description,
        photos: req.photos,
        slotStart,
        slotEnd,
        contactPhone: req.contactPhone ?? account.contactPhone ?? '',
        residentReadingDeciC: req.residentReadingC === undefined ? null : Math.round(req.residentReadingC * 10),
        status: 'pending',
        assigneeId: null,
        assignedAt: null,
        side: null,
        priceItems: null,
        priceFen: null,
        consentAt: null,
        contactedAt: null,
        onSiteAt: null,
        resolvedAt: null,
        closedAt: null,
        resolution: null,
        resolutionPhotos: null,
        materials: null,
        contactDueAt: due.contactDueAt,
        onSiteDueAt: due.onSiteDueAt,
        doneDueAt: due.doneDueAt,
        reportDueAt: null,
        reportedAt: null,
        report: null,
        callbackDueAt: null,
        escalationLevel: 0,
        escalatedAt: null,
        reopenCount: 0,
        rating: null,
        ratingComment: null,
        createdAt: now,
      });
      await em.save(row);
      row.no = `BX${chinaDate(now).replace(/-/g, '')}${String(row.id).padStart(6, '0')}`;
      await em.update(RepairTicket, row.id, { no: row.no });
      await recordTransition(em, SUBJECT, row.id, null, 'pending', by?.actor ?? actorOf(resident), by ? `${emergency ? '紧急报修：' : ''}${by.reason}` : emergency ? '紧急报修' : '报修已登记');
      await this.autoDispatch(em, row, now);
      return row.id;
    });
    if (checked) await this.o.moderation.link([checked.recordId], id);
    // photos: checked asynchronously; a risky one is taken off the ticket (onPhotoVerdict)
    if (!by) for (const photo of req.photos) await this.o.moderation.checkPhoto(resident.residentId, photo, { subjectType: 'repair', subjectId: id, scene: 1, areaId: account.areaId });
    return this.viewForResident(resident.residentId, id);
  }

  /** WeChat found a resident's repair photo risky: it leaves the ticket (the moderation trail keeps it). */
  private async onPhotoVerdict(ticketId: number, photo: string, verdict: PhotoVerdict): Promise<void> {
    if (verdict !== 'risky') return;
    await withTx(this.ds, async (em) => {
      const t = await forUpdate(em.createQueryBuilder(RepairTicket, 't').where('t.id = :id', { id: ticketId })).getOne();
      if (!t || !t.photos.includes(photo)) return;
      await em.update(RepairTicket, t.id, { photos: t.photos.filter((p) => p !== photo) });
    });
  }

  async listForResident(residentId: number): Promise<{ items: RepairView[] }> {
    const rows = await this.ds.getRepository(RepairTicket).find({ where: { residentId }, order: { id: 'DESC' }, take: 100 });
    return { items: await this.present(rows, false) };
  }

  async viewForResident(residentId: number, id: number): Promise<RepairView> {
    const row = await this.ds.getRepository(RepairTicket).findOneBy({ id, residentId });
    if (!row) throw new AppError('REPAIR_NOT_FOUND');
    const [view] = await this.present([row], false);
    view!.timeline = await this.timelineOf(id);
    return view!;
  }

  async cancelByResident(resident: ResidentPrincipal, id: number): Promise<RepairView> {
    await this.move(id, { resident }, 'cancelled', actorOf(resident), '住户取消');
    return this.viewForResident(resident.residentId, id);
  }

  /** The resident accepts (work starts) or declines (ticket cancelled) the price of resident-side work. */
  async consent(resident: ResidentPrincipal, id: number, accept: boolean): Promise<RepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      if (t.status !== 'awaiting_consent') throw new AppError('INVALID_TRANSITION', { from: t.status, to: accept ? 'in_progress' : 'cancelled' });
      const to: RepairState = accept ? 'in_progress' : 'cancelled';
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, to, actorOf(resident), accept ? '住户同意维修费用' : '住户不同意维修费用', {
        priceFen: t.priceFen,
      });
      await em.update(RepairTicket, id, { status: to, consentAt: accept ? now : null, closedAt: accept ? null : now });
    });
    return this.viewForResident(resident.residentId, id);
  }

  /** 1–5 stars; unsatisfied (default: under 3 stars) reopens the ticket and escalates it. */
  async rate(resident: ResidentPrincipal, id: number, req: RateRepairRequest): Promise<RepairView> {
    const now = this.o.clock();
    const owned = await this.ds.getRepository(RepairTicket).findOneBy({ id, residentId: resident.residentId });
    if (!owned) throw new AppError('REPAIR_NOT_FOUND');
    const checked = req.comment ? await this.o.moderation.checkText(resident.residentId, req.comment, { subjectType: 'repair_rating', scene: 2, areaId: owned.areaId }) : null;
    if (checked) await this.o.moderation.link([checked.recordId], id);
    const satisfied = req.satisfied ?? req.rating >= 3;
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      if (satisfied) {
        await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'closed', actorOf(resident), `评价${req.rating}星`);
        await em.update(RepairTicket, id, { status: 'closed', rating: req.rating, ratingComment: req.comment ?? null, closedAt: now });
      } else {
        await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'reopened', actorOf(resident), `不满意（${req.rating}星）：${req.comment ?? ''}`.slice(0, 200));
        await em.update(RepairTicket, id, { rating: req.rating, ratingComment: req.comment ?? null });
        await this.reopen(em, t, now, '住户评价不满意');
      }
    });
    return this.viewForResident(resident.residentId, id);
  }

  /** Reopened: fresh contact/done clocks, escalation one level per reopen (supervisor, then head). */
  private async reopen(em: EntityManager, t: RepairTicket, now: Date, why: string) {
    const rules = await this.o.company.rules();
    const due = repairDeadlines({ createdAt: now, emergency: t.emergency, slotEnd: null }, rules);
    const reopenCount = t.reopenCount + 1;
    const level = Math.min(2, Math.max(t.escalationLevel + 1, reopenCount));
    await em.update(RepairTicket, t.id, {
      status: 'reopened',
      reopenCount,
      contactedAt: null,
      onSiteAt: null,
      resolvedAt: null,
      contactDueAt: due.contactDueAt,
      onSiteDueAt: due.onSiteDueAt,
      doneDueAt: due.doneDueAt,
      escalationLevel: level,
      escalatedAt: now,
    });
    await this.notifyEscalation(em, { ...t, escalationLevel: level }, level, `${why}，已重新派单处理`, `reopen:${reopenCount}`, now);
  }

  // ---- staff: lists -------------------------------------------------------------------------

  async listForStaff(staff: StaffPrincipal, q: { page: number; pageSize: number; status?: RepairState; mine?: '1' | '0'; pool?: '1' | '0'; overdue?: '1' | '0' }) {
    const now = this.o.clock();
    const scope = staffAreaFilter(staff);
    const qb = this.ds.getRepository(RepairTicket).createQueryBuilder('t');
    if (scope !== 'all') {
      if (!scope.length) return { items: [], total: 0, page: q.page, pageSize: q.pageSize };
      qb.andWhere('t.areaId IN (:...areas)', { areas: scope });
    }
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    if (q.mine === '1') qb.andWhere('t.assigneeId = :me', { me: staff.staffId });
    if (q.pool === '1') qb.andWhere("t.status = 'pending' AND t.assigneeId IS NULL");
    if (q.overdue === '1') qb.andWhere(overdueWhere(now));
    const [rows, total] = await qb
      .orderBy('t.emergency', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    return { items: (await this.present(rows, true)) as StaffRepairView[], total, page: q.page, pageSize: q.pageSize, now: now.toISOString() };
  }

  async viewForStaff(staff: StaffPrincipal, id: number): Promise<StaffRepairView> {
    const row = await this.ds.getRepository(RepairTicket).findOneBy({ id });
    if (!row || !inScope(staff, row.areaId)) throw new AppError('REPAIR_NOT_FOUND');
    const [view] = (await this.present([row], true)) as StaffRepairView[];
    view!.timeline = await this.timelineOf(id);
    return view!;
  }

  async notices(staff: StaffPrincipal) {
    const rows = await this.ds.getRepository(RepairStaffNotice).find({ where: { staffId: staff.staffId }, order: { id: 'DESC' }, take: 100 });
    return { items: rows.map((n) => ({ id: n.id, ticketId: n.ticketId, kind: n.kind, text: n.text, createdAt: n.createdAt.toISOString(), read: !!n.readAt })) };
  }

  /** Mark one's own notices read (all, or up to an id); returns how many were unread. */
  async readNotices(staff: StaffPrincipal, upToId?: number): Promise<{ marked: number }> {
    const qb = this.ds
      .createQueryBuilder()
      .update(RepairStaffNotice)
      .set({ readAt: this.o.clock() })
      .where('staffId = :s AND readAt IS NULL', { s: staff.staffId });
    if (upToId) qb.andWhere('id <= :id', { id: upToId });
    return { marked: (await qb.execute()).affected ?? 0 };
  }

  // ---- staff: dispatch ----------------------------------------------------------------------

  /** Who the dispatcher may (re)assign the ticket to: active butlers/workers of its area, least loaded first. */
  async assignees(staff: StaffPrincipal, id: number): Promise<{ items: { id: number; name: string; roles: StaffRole[]; open: number }[] }> {
    const t = await this.ds.getRepository(RepairTicket).findOneBy({ id });
    if (!t || !inScope(staff, t.areaId)) throw new AppError('REPAIR_NOT_FOUND');
    const staffList = await this.staffOfArea(this.ds.manager, t.areaId, ['butler', 'worker']);
    if (!staffList.length) return { items: [] };
    const load = await this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select('t.assigneeId', 'staffId')
      .addSelect('COUNT(*)', 'n')
      .where('t.assigneeId IN (:...ids)', { ids: staffList.map((s) => s.id) })
      .andWhere('t.status IN (:...open)', { open: REPAIR_OPEN_STATES })
      .groupBy('t.assigneeId')
      .getRawMany();
    const n = new Map(load.map((r) => [Number(r.staffId), Number(r.n)]));
    const items = staffList.map((s) => ({ id: s.id, name: s.name, roles: s.roles.filter((r) => r === 'butler' || r === 'worker'), open: n.get(s.id) ?? 0 }));
    return { items: items.sort((a, b) => a.open - b.open || a.id - b.id) };
  }

  /** Dispatcher (or admin) assigns or reassigns to a butler/worker of the ticket's area. */
  async assign(staff: StaffPrincipal, id: number, staffId: number, reason?: string): Promise<StaffRepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { staff });
      const candidates = await this.staffOfArea(em, t.areaId, ['butler', 'worker']);
      if (!candidates.some((s) => s.id === staffId)) throw new AppError('REPAIR_ASSIGNEE_INVALID');
      const from = t.status;
      // contacted → assigned is a fresh hand-over; the table refuses other states
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: from }, 'assigned', actorOf(staff), reason ?? (from === 'pending' ? '调度派单' : '调度改派'), { staffId });
      await em.update(RepairTicket, id, { status: 'assigned', assigneeId: staffId, assignedAt: now });
      await em.insert(RepairAssignment, { ticketId: id, staffId, kind: from === 'pending' ? 'dispatch' : 'reassign', byStaffId: staff.staffId, reason: reason ?? null });
      await this.staffNotice(em, [staffId], t.id, 'dispatch', `您有新的${t.emergency ? '紧急' : ''}报修工单 ${t.no}`, `assign:${t.id}:${staffId}:${now.getTime()}`, now);
      await this.residentProgress(em, t, '已派单', `维修人员已接单`, now);
    });
    return this.viewForStaff(staff, id);
  }

  /** A worker (or butler) takes an unassigned ticket of their area; of two at once exactly one wins. */
  async grab(staff: StaffPrincipal, id: number): Promise<StaffRepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await em.findOneBy(RepairTicket, { id });
      if (!t || !inScope(staff, t.areaId)) throw new AppError('REPAIR_NOT_FOUND');
      // the conditional UPDATE is the arbiter: only a still-unassigned pending ticket changes hands
      const res = await em
        .createQueryBuilder()
        .update(RepairTicket)
        .set({ status: 'assigned', assigneeId: staff.staffId, assignedAt: now })
        .where('id = :id AND status = :pending AND assigneeId IS NULL', { id, pending: 'pending' })
        .execute();
      if (res.affected !== 1) throw new AppError('REPAIR_ALREADY_TAKEN');
      await recordTransition(em, SUBJECT, id, 'pending', 'assigned', actorOf(staff), `${staff.name}抢单`, { staffId: staff.staffId });
      await em.insert(RepairAssignment, { ticketId: id, staffId: staff.staffId, kind: 'grab', byStaffId: staff.staffId, reason: null });
      await this.residentProgress(em, t, '已接单', `${staff.name}已接单`, now);
    });
    return this.viewForStaff(staff, id);
  }

  // ---- staff: field work --------------------------------------------------------------------

  async contact(staff: StaffPrincipal, id: number): Promise<StaffRepairView> {
    const now = this.o.clock();
    await this.fieldMove(staff, id, 'contacted', '已电话联系住户', { contactedAt: now });
    return this.viewForStaff(staff, id);
  }

  async arrive(staff: StaffPrincipal, id: number): Promise<StaffRepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'on_site', actorOf(staff), '维修人员已到达现场');
      await em.update(RepairTicket, id, { status: 'on_site', onSiteAt: now, contactedAt: t.contactedAt ?? now });
      await this.residentProgress(em, t, '已上门', '维修人员已到达现场', now);
    });
    return this.viewForStaff(staff, id);
  }

  /** The worker marks whose installation it is: company side starts work; resident side needs consent to the price. */
  async setSide(staff: StaffPrincipal, id: number, req: z.output<typeof SideRequest>): Promise<StaffRepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      if (req.side === 'company') {
        await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'in_progress', actorOf(staff), req.note ?? '公司产权，免费维修');
        await em.update(RepairTicket, id, { status: 'in_progress', side: 'company', priceItems: null, priceFen: null });
        return;
      }
      const items = req.items.map((i) => {
        const p = REPAIR_PRICE_LIST.find((x) => x.code === i.code)!;
        return { code: p.code, name: p.name, qty: i.qty, priceFen: p.priceFen };
      });
      const total = items.reduce((s, i) => s + i.priceFen * i.qty, 0);
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'awaiting_consent', actorOf(staff), req.note ?? '用户自有设施，需确认费用', { priceFen: total });
      await em.update(RepairTicket, id, { status: 'awaiting_consent', side: 'resident', priceItems: items, priceFen: total, consentAt: null });
      await this.residentProgress(em, t, '待确认费用', `有偿维修${(total / 100).toFixed(2)}元请确认`, now);
    });
    return this.viewForStaff(staff, id);
  }

  async resolve(staff: StaffPrincipal, id: number, req: z.output<typeof ResolveRequest>): Promise<StaffRepairView> {
    const now = this.o.clock();
    await this.o.uploads.claim(req.photos, { kind: 'staff', id: staff.staffId }, ['repair_photo']);
    const rules = await this.o.company.rules();
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      if (t.status === 'on_site') throw new AppError('REPAIR_SIDE_REQUIRED');
      if (t.status === 'awaiting_consent') throw new AppError('REPAIR_CONSENT_REQUIRED');
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'resolved', actorOf(staff), req.notes.slice(0, 200));
      const cb = callbackSchedule(now, t.emergency, rules);
      await em.update(RepairTicket, id, {
        status: 'resolved',
        resolvedAt: now,
        resolution: req.notes,
        resolutionPhotos: req.photos,
        materials: req.materials,
        callbackDueAt: cb.dueAt,
        reportDueAt: cb.reportDueAt,
        reportedAt: null,
        report: null,
      });
      await em.insert(RepairCallback, {
        ticketId: id,
        areaId: t.areaId,
        round: t.reopenCount,
        scheduledAt: cb.scheduledAt,
        dueAt: cb.dueAt,
        status: 'pending',
        outcome: null,
        notes: null,
        agentId: null,
        doneAt: null,
      });
      await this.residentProgress(em, t, '已完工', '维修已完成，请评价', now);
    });
    return this.viewForStaff(staff, id);
  }

  /** Emergencies: the crew reports the result within emergencyReportMinutes of finishing. */
  async submitReport(staff: StaffPrincipal, id: number, text: string): Promise<StaffRepairView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      if (!t.emergency || !t.resolvedAt || !['resolved', 'closed'].includes(t.status)) throw new AppError('INVALID_TRANSITION', { from: t.status, to: 'reported' });
      if (t.reportedAt) throw new AppError('CONFLICT');
      await em.update(RepairTicket, id, { reportedAt: now, report: text });
    });
    return this.viewForStaff(staff, id);
  }

  // ---- agents: callbacks --------------------------------------------------------------------

  /** Callback tasks of the agent's areas that may be called now (never listed inside quiet hours). */
  async callbacks(staff: StaffPrincipal) {
    const now = this.o.clock();
    const scope = staffAreaFilter(staff);
    const qb = this.ds
      .getRepository(RepairCallback)
      .createQueryBuilder('c')
      .where("c.status = 'pending'")
      .andWhere('c.scheduledAt <= :now', { now });
    if (scope !== 'all') {
      if (!scope.length) return { items: [] };
      qb.andWhere('c.areaId IN (:...areas)', { areas: scope });
    }
    const rules = await this.o.company.rules();
    if (inQuietHours(now, rules.sla)) return { items: [], quiet: true };
    const rows = await qb.orderBy('c.dueAt', 'ASC').take(100).getMany();
    const tickets = rows.length ? await this.ds.getRepository(RepairTicket).find({ where: { id: In(rows.map((r) => r.ticketId)) } }) : [];
    const views = new Map((await this.present(tickets, true)).map((v) => [v.id, v]));
    return {
      items: rows.map((c) => ({ id: c.id, ticketId: c.ticketId, scheduledAt: c.scheduledAt.toISOString(), dueAt: c.dueAt.toISOString(), minutesLeft: minutesLeft(c.dueAt, now), ticket: views.get(c.ticketId) })),
    };
  }

  async completeCallback(staff: StaffPrincipal, callbackId: number, req: z.output<typeof CallbackDoneRequest>) {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const c = await forUpdate(em.createQueryBuilder(RepairCallback, 'c').where('c.id = :id', { id: callbackId })).getOne();
      if (!c || !inScope(staff, c.areaId)) throw new AppError('NOT_FOUND');
      if (c.status !== 'pending') throw new AppError('CONFLICT');
      await em.update(RepairCallback, c.id, { status: 'done', outcome: req.outcome, notes: req.notes ?? null, agentId: staff.staffId, doneAt: now });
      if (req.outcome === 'unsatisfied') {
        const t = await this.lockTicket(em, c.ticketId, {});
        if (t.status === 'resolved') {
          await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id: t.id, state: t.status }, 'reopened', actorOf(staff), `回访不满意：${req.notes ?? ''}`.slice(0, 200));
          await this.reopen(em, t, now, '回访住户不满意');
        }
      }
    });
    return { ok: true };
  }

  // ---- SLA escalation job -------------------------------------------------------------------

  /**
   * Escalate open tickets past a deadline: first to the supervisor (the area's dispatchers), and
   * when still overdue ESCALATE_TO_HEAD_AFTER_MINUTES later to the department head (admins).
   * Notices go through the outbox. Safe to run from several instances (row locks, dedupe keys).
   */
  async escalateOverdue(now: Date = this.o.clock()): Promise<{ escalated: number }> {
    const candidates = await this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .where('t.escalationLevel < 2')
      .andWhere(overdueWhere(now))
      .select(['t.id'])
      .getMany();
    let escalated = 0;
    for (const { id } of candidates) {
      const done = await withTx(this.ds, async (em) => {
        const t = await this.lockTicket(em, id, {});
        const missed = overdueKinds(t, now);
        if (!missed.length) return false;
        let level: number;
        if (t.escalationLevel === 0) level = 1;
        else if (t.escalationLevel === 1 && t.escalatedAt && now.getTime() - t.escalatedAt.getTime() >= ESCALATE_TO_HEAD_AFTER_MINUTES * 60_000) level = 2;
        else return false;
        await em.update(RepairTicket, id, { escalationLevel: level, escalatedAt: now });
        await recordTransition(em, SUBJECT, id, t.status, t.status, SYSTEM, `超时升级至${level === 1 ? '主管' : '部门负责人'}（${missed.join('、')}）`, { escalationLevel: level });
        await this.notifyEscalation(em, t, level, `工单 ${t.no} ${missed.join('、')}已超时`, `overdue:${level}:r${t.reopenCount}`, now);
        return true;
      });
      if (done) escalated++;
    }
    return { escalated };
  }

  // ---- internals ----------------------------------------------------------------------------

  private async autoDispatch(em: EntityManager, t: RepairTicket, now: Date) {
    const role: StaffRole = t.emergency ? 'worker' : 'butler';
    const staff = await this.staffOfArea(em, t.areaId, [role]);
    if (!staff.length) {
      const dispatchers = await this.staffOfArea(em, t.areaId, ['dispatcher']);
      await this.staffNotice(em, dispatchers.map((s) => s.id), t.id, 'dispatch', `工单 ${t.no} 待派单（片区无${t.emergency ? '值班抢修人员' : '管家'}）`, `undispatched:${t.id}`, now);
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
    await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id: t.id, state: 'pending' }, 'assigned', SYSTEM, t.emergency ? '紧急报修，已派值班抢修人员' : '已派片区管家', { staffId: pick.id });
    await em.update(RepairTicket, t.id, { status: 'assigned', assigneeId: pick.id, assignedAt: now });
    await em.insert(RepairAssignment, { ticketId: t.id, staffId: pick.id, kind: 'auto', byStaffId: null, reason: null });
    await this.staffNotice(em, [pick.id], t.id, 'dispatch', `您有新的${t.emergency ? '紧急' : ''}报修工单 ${t.no}`, `assign:${t.id}:${pick.id}:auto`, now);
  }

  // ---- the staff dashboard (admin) ----------------------------------------------------------------

  /** Open tickets of the staff member's areas (a worker alone: only theirs) with their deadlines. */
  async openDeadlines(p: StaffPrincipal, onlyMine: boolean): Promise<Pick<RepairTicket, 'id' | 'contactedAt' | 'contactDueAt' | 'onSiteAt' | 'onSiteDueAt' | 'doneDueAt' | 'resolvedAt' | 'assigneeId'>[]> {
    const qb = this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select(['t.id', 't.contactedAt', 't.contactDueAt', 't.onSiteAt', 't.onSiteDueAt', 't.doneDueAt', 't.resolvedAt', 't.assigneeId'])
      .where('t.status IN (:...open)', { open: [...REPAIR_OPEN_STATES] });
    scopeToAreas(qb, 't.areaId', p);
    if (onlyMine) qb.andWhere('t.assigneeId = :me', { me: p.staffId });
    return qb.getMany();
  }

  /** Tickets of the staff member's areas opened (createdAt) or closed by work (closedAt) in [from, to). */
  async countBetween(p: StaffPrincipal, column: 'createdAt' | 'closedAt', from: Date, to: Date, onlyMine: boolean): Promise<number> {
    const q = this.ds.getRepository(RepairTicket).createQueryBuilder('t').where(`t.${column} >= :from AND t.${column} < :to`, { from, to });
    scopeToAreas(q, 't.areaId', p);
    // a cancelled ticket has a closedAt too, but it was not closed by work
    if (column === 'closedAt') q.andWhere('t.status <> :cancelled', { cancelled: 'cancelled' });
    if (onlyMine) q.andWhere('t.assigneeId = :me', { me: p.staffId });
    return q.getCount();
  }

  /** Active staff with one of the roles serving the area. */
  private async staffOfArea(em: EntityManager, areaId: number, roles: StaffRole[]): Promise<Staff[]> {
    return (await this.o.identity.staffOfAreas([areaId], { roles, em })).map((x) => x.staff);
  }

  private async admins(em: EntityManager): Promise<Staff[]> {
    return this.o.identity.activeAdmins(em);
  }

  private async notifyEscalation(em: EntityManager, t: RepairTicket, level: number, text: string, key: string, now: Date) {
    const to = level >= 2 ? await this.admins(em) : await this.staffOfArea(em, t.areaId, ['dispatcher']);
    await this.staffNotice(em, to.map((s) => s.id), t.id, 'escalation', `【${level >= 2 ? '部门负责人' : '主管'}】${text}`, `esc:${t.id}:${key}`, now);
  }

  private async staffNotice(em: EntityManager, staffIds: number[], ticketId: number, kind: string, text: string, key: string, now: Date) {
    if (!staffIds.length) return;
    await enqueue(em, STAFF_NOTICE_TOPIC, { staffIds, ticketId, kind, text, key }, { dedupeKey: `repair-notice:${key}`.slice(0, 128), now });
  }

  private async residentProgress(em: EntityManager, t: RepairTicket, phrase: string, detail: string, now: Date) {
    await this.o.notifications.toResident(
      em,
      t.residentId,
      'repairProgress',
      { character_string1: t.no, thing2: detail.slice(0, 20), phrase3: phrase.slice(0, 5), time4: formatChinaTime(now) },
      { page: `pages/repairs/detail?id=${t.id}`, dedupeKey: `repair:${t.id}:${phrase}:${now.getTime()}`, now },
    );
  }

  private async lockTicket(em: EntityManager, id: number, who: { residentId?: number; staff?: StaffPrincipal }): Promise<RepairTicket> {
    const t = await forUpdate(em.createQueryBuilder(RepairTicket, 't').where('t.id = :id', { id })).getOne();
    if (!t) throw new AppError('REPAIR_NOT_FOUND');
    if (who.residentId !== undefined && t.residentId !== who.residentId) throw new AppError('REPAIR_NOT_FOUND');
    if (who.staff && !inScope(who.staff, t.areaId)) throw new AppError('REPAIR_NOT_FOUND');
    return t;
  }

  /** The ticket, locked, if the caller holds it (admins may act on any). */
  private async lockAssigned(em: EntityManager, staff: StaffPrincipal, id: number): Promise<RepairTicket> {
    const t = await this.lockTicket(em, id, { staff });
    if (t.assigneeId !== staff.staffId && !staff.roles.includes('admin')) throw new AppError('FORBIDDEN');
    return t;
  }

  private async fieldMove(staff: StaffPrincipal, id: number, to: RepairState, reason: string, patch: Partial<RepairTicket>) {
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, to, actorOf(staff), reason);
      await em.update(RepairTicket, id, { status: to, ...patch });
    });
  }

  private async move(id: number, who: { resident?: ResidentPrincipal }, to: RepairState, actor: Actor, reason: string) {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: who.resident?.residentId });
      await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, to, actor, reason);
      await em.update(RepairTicket, id, { status: to, ...(to === 'cancelled' || to === 'closed' ? { closedAt: now } : {}) });
    });
  }

  private async timelineOf(id: number) {
    const rows = await timeline(this.ds.manager, SUBJECT, id);
    return rows.map((r) => ({
      state: r.toState as RepairState,
      label: r.fromState === r.toState ? '工单升级' : REPAIR_STATE_LABEL[r.toState as RepairState] ?? r.toState,
      at: r.at.toISOString(),
      reason: r.reason,
    }));
  }

  private async present(rows: RepairTicket[], forStaff: boolean): Promise<RepairView[] | StaffRepairView[]> {
    if (!rows.length) return [];
    const now = this.o.clock();
    const accounts = (await Promise.all([...new Set(rows.map((r) => r.accountId))].map((id) => this.o.accounts.account(id)))).filter((a) => !!a);
    const ctx = await this.o.accounts.addressContext(accounts);
    const byAccount = new Map(accounts.map((a) => [a.id, a]));
    const staffIds = [...new Set(rows.map((r) => r.assigneeId).filter((x): x is number => x !== null))];
    const staff = new Map((await this.o.identity.staffByIds(staffIds)).map((s) => [s.id, s]));
    return rows.map((t) => {
      const account = byAccount.get(t.accountId);
      const waitingForCall = !t.contactedAt && ['pending', 'assigned', 'reopened'].includes(t.status);
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
        contactDueAt: t.contactDueAt.toISOString(),
        onSiteDueAt: t.onSiteDueAt?.toISOString() ?? null,
        doneDueAt: t.doneDueAt.toISOString(),
        promise: waitingForCall ? contactPromise(t.contactDueAt, now) : null,
        resolution: t.resolution,
        resolutionPhotos: (t.resolutionPhotos ?? []).map((p) => this.o.uploads.link(p)),
        rating: t.rating,
        ratingComment: t.ratingComment,
        createdAt: t.createdAt.toISOString(),
      };
      if (!forStaff) return base;
      const next = nextDeadline(t);
      const view: StaffRepairView = {
        ...base,
        areaId: t.areaId,
        assigneeId: t.assigneeId,
        contactPhone: t.contactPhone,
        escalationLevel: t.escalationLevel,
        minutesLeft: REPAIR_OPEN_STATES.includes(t.status) ? minutesLeft(next, now) : null,
        overdue: overdueKinds(t, now).length > 0,
        reportDueAt: t.reportDueAt?.toISOString() ?? null,
        reportedAt: t.reportedAt?.toISOString() ?? null,
      };
      return view;
    }) as RepairView[] | StaffRepairView[];
  }
}


/** SQL twin of overdueKinds: an open ticket past a deadline, or an emergency's result not reported in time. */
function overdueWhere(now: Date): Brackets {
  return new Brackets((o) =>
    o
      .where(
        new Brackets((w) =>
          w.where('t.status IN (:...open)', { open: REPAIR_OPEN_STATES }).andWhere(
            new Brackets((b) =>
              b
                .where('(t.contactedAt IS NULL AND t.contactDueAt < :now)', { now })
                .orWhere('(t.onSiteAt IS NULL AND t.onSiteDueAt < :now)', { now })
                .orWhere('t.doneDueAt < :now', { now }),
            ),
          ),
        ),
      )
      .orWhere("(t.status IN ('resolved', 'closed') AND t.reportedAt IS NULL AND t.reportDueAt < :now)", { now }),
  );
}

function overdueKinds(t: RepairTicket, now: Date): string[] {
  const out: string[] = [];
  if (REPAIR_OPEN_STATES.includes(t.status)) {
    if (!t.contactedAt && t.contactDueAt < now) out.push('联系');
    if (!t.onSiteAt && t.onSiteDueAt && t.onSiteDueAt < now) out.push('上门');
    if (!t.resolvedAt && t.doneDueAt < now) out.push('完工');
  } else if ((t.status === 'resolved' || t.status === 'closed') && !t.reportedAt && t.reportDueAt && t.reportDueAt < now) {
    out.push('处置结果汇报');
  }
  return out;
}

function nextDeadline(t: RepairTicket): Date | null {
  if (!t.contactedAt) return t.contactDueAt;
  if (!t.onSiteAt && t.onSiteDueAt) return t.onSiteDueAt;
  if (!t.resolvedAt) return t.doneDueAt;
  return null;
}

