import { In } from 'typeorm';
import { inQuietHours, minutesLeft, pushOutOfQuietHours, REPAIR_TRANSITIONS, type CallbackDoneRequest } from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { applyTransition } from '../../platform/state';
import { actorOf, staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { inScope } from '../../platform/scope';
import { RepairCallback, RepairTicket } from './entities';
import { RepairsCore, SUBJECT } from './core';

/**
 * Satisfaction callbacks by agents after a ticket is resolved (never inside quiet hours). 未接通
 * schedules another try (callbackRetryMinutes later, outside quiet hours) until callbackMaxAttempts
 * calls went unanswered; a reopened ticket's callback leaves the list (issue 17 item 8).
 */
export class RepairCallbacks extends RepairsCore {
  /** Callback tasks of the agent's areas that may be called now (never listed inside quiet hours). */
  async callbacks(staff: StaffPrincipal) {
    const now = this.o.clock();
    const scope = staffAreaFilter(staff);
    const qb = this.ds
      .getRepository(RepairCallback)
      .createQueryBuilder('c')
      .where("c.status = 'pending'")
      .andWhere('c.scheduledAt <= :now', { now })
      // only tickets still resolved or closed: a reopened one is being worked on again
      .andWhere("c.ticketId IN (SELECT rt.id FROM repair_ticket rt WHERE rt.status IN ('resolved', 'closed'))");
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
      items: rows.map((c) => ({
        id: c.id,
        ticketId: c.ticketId,
        scheduledAt: c.scheduledAt.toISOString(),
        dueAt: c.dueAt.toISOString(),
        minutesLeft: minutesLeft(c.dueAt, now),
        attempts: c.attempts,
        ticket: views.get(c.ticketId),
      })),
    };
  }

  async completeCallback(staff: StaffPrincipal, callbackId: number, req: z.output<typeof CallbackDoneRequest>) {
    const now = this.o.clock();
    let retryAt = null as Date | null;
    await withTx(this.ds, async (em) => {
      const c = await forUpdate(em.createQueryBuilder(RepairCallback, 'c').where('c.id = :id', { id: callbackId })).getOne();
      if (!c || !inScope(staff, c.areaId)) throw new AppError('NOT_FOUND');
      if (c.status !== 'pending') throw new AppError('CALLBACK_ALREADY_DONE');
      if (req.outcome === 'unreachable') {
        const { sla } = await this.o.company.rules();
        const attempts = c.attempts + 1;
        const notes = req.notes ?? c.notes;
        if (attempts < sla.callbackMaxAttempts) {
          // nobody answered: try again later, never inside quiet hours; the task stays open
          retryAt = pushOutOfQuietHours(new Date(now.getTime() + sla.callbackRetryMinutes * 60_000), sla);
          await em.update(RepairCallback, c.id, {
            attempts,
            scheduledAt: retryAt,
            dueAt: retryAt > c.dueAt ? retryAt : c.dueAt,
            notes,
            agentId: staff.staffId,
          });
          return;
        }
        await em.update(RepairCallback, c.id, { status: 'done', attempts, outcome: 'unreachable', notes, agentId: staff.staffId, doneAt: now });
        return;
      }
      await em.update(RepairCallback, c.id, { status: 'done', outcome: req.outcome, notes: req.notes ?? null, agentId: staff.staffId, doneAt: now });
      if (req.outcome === 'unsatisfied') {
        const t = await this.lockTicket(em, c.ticketId, {});
        if (t.status === 'resolved') {
          await applyTransition(
            em,
            REPAIR_TRANSITIONS,
            { type: SUBJECT, id: t.id, state: t.status },
            'reopened',
            actorOf(staff),
            `回访不满意：${req.notes ?? ''}`.slice(0, 200),
          );
          await this.reopen(em, t, now, '回访住户不满意');
        }
      }
    });
    return { ok: true, ...(retryAt ? { retryAt: retryAt.toISOString() } : {}) };
  }
}
