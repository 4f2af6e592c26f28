import { chinaHm, formatChinaTime, isOverdueForResident, RescheduleRequest, slotProblem, type RepairView } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { withTx } from '../../platform/db/data-source';
import { recordTransition } from '../../platform/state';
import { actorOf, type ResidentPrincipal } from '../../platform/auth';
import { RepairTicket } from './entities';
import { RepairsCore, RESCHEDULABLE, rescheduleState, SUBJECT, urgeState } from './core';

/** What a resident does about the promises made to them: 催单 on an overdue ticket, 改约 of the visit. */
export class RepairPromisesToResident extends RepairsCore {
  /**
   * 催单: the ticket is past a promise (issue 17 item 6); recorded on the timeline, the assignee
   * and the area's dispatchers are told; at most once per the company's urgeIntervalMinutes.
   */
  async urge(resident: ResidentPrincipal, id: number): Promise<RepairView> {
    const now = this.o.clock();
    const rules = await this.o.company.rules();
    await withTx(this.ds, async (em) => {
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      const overdue = isOverdueForResident(t, now);
      const state = urgeState(t, overdue, now, rules);
      if (!state.allowed) {
        if (state.nextAt) {
          const wait = Math.max(1, Math.ceil((new Date(state.nextAt).getTime() - now.getTime()) / 60_000));
          throw new AppError('REPAIR_URGE_TOO_SOON', { nextAt: state.nextAt }).say(`您已催过单，我们正在加急处理，请${wait}分钟后再催`);
        }
        throw new AppError('REPAIR_URGE_NOT_DUE');
      }
      const count = t.urgeCount + 1;
      await em.update(RepairTicket, id, { urgeCount: count, lastUrgedAt: now });
      await recordTransition(em, SUBJECT, id, t.status, t.status, actorOf(resident), count > 1 ? `住户第${count}次催单` : '住户催单', { event: 'urge' });
      const dispatchers = await this.staffOfArea(em, t.areaId, ['dispatcher']);
      const to = [...new Set([...(t.assigneeId ? [t.assigneeId] : []), ...dispatchers.map((s) => s.id)])];
      await this.staffNotice(em, to, t.id, 'urge', `住户催单：工单 ${t.no}${t.emergency ? '（紧急）' : ''}已超时，请尽快处理`, `urge:${t.id}:${count}`, now);
    });
    return this.viewForResident(resident.residentId, id);
  }

  /**
   * 改约 (Zibo 001): the resident moves the booked visit of a routine ticket, as often as the
   * company allows (once) and at least appointmentNoticeMinutes (1 h) before it; the visit must
   * be a valid slot. The on-site deadline becomes the new slot's end; the assignee is told.
   */
  async reschedule(resident: ResidentPrincipal, id: number, req: z.output<typeof RescheduleRequest>): Promise<RepairView> {
    const now = this.o.clock();
    const rules = await this.o.company.rules();
    const slotStart = new Date(req.slotStart);
    const slotEnd = new Date(req.slotEnd);
    await withTx(this.ds, async (em) => {
      // whose ticket first: someone else's is not found, whatever the slot
      const t = await this.lockTicket(em, id, { residentId: resident.residentId });
      const problem = slotProblem(slotStart, slotEnd, now, rules.sla, rules.repairs.bookingHorizonDays);
      if (problem) throw new AppError('REPAIR_SLOT_INVALID', { fields: [{ field: 'slotStart', message: problem }] });
      const state = rescheduleState(t, now, rules);
      if (!state.allowed) {
        if (state.left === 0) throw new AppError('REPAIR_RESCHEDULE_USED');
        if (t.emergency || !RESCHEDULABLE.includes(t.status)) throw new AppError('INVALID_TRANSITION', { from: t.status, to: 'reschedule' });
        throw new AppError('REPAIR_RESCHEDULE_TOO_LATE').say(`距预约上门时间不足${state.noticeMinutes}分钟，不能再修改，如需调整请拨打服务热线`);
      }
      await em.update(RepairTicket, id, { slotStart, slotEnd, onSiteDueAt: slotEnd, slotChanges: t.slotChanges + 1 });
      const when = `${formatChinaTime(slotStart)}-${chinaHm(slotEnd)}`;
      await recordTransition(em, SUBJECT, id, t.status, t.status, actorOf(resident), `上门时间改为 ${when}`, { event: 'reschedule' });
      if (t.assigneeId)
        await this.staffNotice(em, [t.assigneeId], t.id, 'reschedule', `工单 ${t.no} 住户改约：${when}`, `reschedule:${t.id}:${t.slotChanges + 1}`, now);
    });
    return this.viewForResident(resident.residentId, id);
  }
}
