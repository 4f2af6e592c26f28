import { callbackSchedule, REPAIR_TRANSITIONS, type ResolveRequest, type SideRequest, type StaffRepairView } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import { applyTransition } from '../../platform/state';
import { actorOf, type StaffPrincipal } from '../../platform/auth';
import { RepairCallback, RepairTicket } from './entities';
import { RepairsCore, SUBJECT } from './core';

/** Field work by the assignee: contact, arrival, whose installation it is, completion, the emergency report. */
export class RepairFieldWork extends RepairsCore {
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
    const priceList = (await this.o.company.rules()).repairs.priceList;
    await withTx(this.ds, async (em) => {
      const t = await this.lockAssigned(em, staff, id);
      if (req.side === 'company') {
        await applyTransition(em, REPAIR_TRANSITIONS, { type: SUBJECT, id, state: t.status }, 'in_progress', actorOf(staff), req.note ?? '公司产权，免费维修');
        await em.update(RepairTicket, id, { status: 'in_progress', side: 'company', priceItems: null, priceFen: null });
        return;
      }
      const items = req.items.map((i) => {
        const p = priceList.find((x) => x.code === i.code);
        if (!p) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'items', message: '价目表中没有该收费项目，请刷新后重选' }] });
        return { code: p.code, name: p.name, qty: i.qty, priceFen: p.priceFen };
      });
      const total = items.reduce((s, i) => s + i.priceFen * i.qty, 0);
      await applyTransition(
        em,
        REPAIR_TRANSITIONS,
        { type: SUBJECT, id, state: t.status },
        'awaiting_consent',
        actorOf(staff),
        req.note ?? '用户自有设施，需确认费用',
        { priceFen: total },
      );
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
      if (!t.emergency || !t.resolvedAt || !['resolved', 'closed'].includes(t.status))
        throw new AppError('INVALID_TRANSITION', { from: t.status, to: 'reported' });
      if (t.reportedAt) throw new AppError('REPAIR_REPORT_SUBMITTED');
      await em.update(RepairTicket, id, { reportedAt: now, report: text });
    });
    return this.viewForStaff(staff, id);
  }
}
