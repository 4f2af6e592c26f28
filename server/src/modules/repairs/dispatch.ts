import {
  REPAIR_DUE_SOON_MINUTES,
  REPAIR_OPEN_STATES,
  REPAIR_TRANSITIONS,
  repairDeadlineState,
  type RepairState,
  type StaffRepairView,
  type StaffRole,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import { applyTransition, recordTransition } from '../../platform/state';
import { actorOf, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { inScope } from '../../platform/scope';
import { RepairAssignment, RepairStaffNotice, RepairTicket } from './entities';
import { RepairsCore, SUBJECT } from './core';
import { overdueWhere } from './escalation';

/** Staff lists, notices, and dispatch: (re)assignment by dispatchers and grab orders. */
export class RepairDispatch extends RepairsCore {
  async listForStaff(
    staff: StaffPrincipal,
    q: { page: number; pageSize: number; status?: RepairState; mine?: '1' | '0'; pool?: '1' | '0'; overdue?: '1' | '0'; dueSoon?: '1' | '0' },
  ) {
    const now = this.o.clock();
    // the page's shape whatever found it empty (no area of one's own, nothing due soon): with the time it was taken
    const empty = () => ({ items: [] as StaffRepairView[], total: 0, page: q.page, pageSize: q.pageSize, now: now.toISOString() });
    const scope = staffAreaFilter(staff);
    const qb = this.ds.getRepository(RepairTicket).createQueryBuilder('t');
    if (scope !== 'all') {
      if (!scope.length) return empty();
      qb.andWhere('t.areaId IN (:...areas)', { areas: scope });
    }
    if (q.status) qb.andWhere('t.status = :status', { status: q.status });
    if (q.mine === '1') qb.andWhere('t.assigneeId = :me', { me: staff.staffId });
    if (q.pool === '1') qb.andWhere("t.status = 'pending' AND t.assigneeId IS NULL");
    if (q.overdue === '1') qb.andWhere(overdueWhere(now));
    if (q.dueSoon === '1') {
      // the shared rule decides (repairDeadlineState), on the few tickets owing a deadline within the window
      const soon = new Date(now.getTime() + REPAIR_DUE_SOON_MINUTES * 60_000);
      const candidates = await qb.clone().andWhere(overdueWhere(soon, 'soon')).getMany();
      const ids = candidates.filter((t) => repairDeadlineState(t, now) === 'due_soon').map((t) => t.id);
      if (!ids.length) return empty();
      qb.andWhere('t.id IN (:...dueSoonIds)', { dueSoonIds: ids });
    }
    const [rows, total] = await qb
      .orderBy('t.emergency', 'DESC')
      .addOrderBy('t.id', 'DESC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    return { items: (await this.present(rows, true)) as StaffRepairView[], total, page: q.page, pageSize: q.pageSize, now: now.toISOString() };
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
      await applyTransition(
        em,
        REPAIR_TRANSITIONS,
        { type: SUBJECT, id, state: from },
        'assigned',
        actorOf(staff),
        reason ?? (from === 'pending' ? '调度派单' : '调度改派'),
        { staffId },
      );
      await em.update(RepairTicket, id, { status: 'assigned', assigneeId: staffId, assignedAt: now });
      await em.insert(RepairAssignment, {
        ticketId: id,
        staffId,
        kind: from === 'pending' ? 'dispatch' : 'reassign',
        byStaffId: staff.staffId,
        reason: reason ?? null,
      });
      await this.staffNotice(
        em,
        [staffId],
        t.id,
        'dispatch',
        `您有新的${t.emergency ? '紧急' : ''}报修工单 ${t.no}`,
        `assign:${t.id}:${staffId}:${now.getTime()}`,
        now,
      );
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
}
