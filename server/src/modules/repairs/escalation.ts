import { Brackets } from 'typeorm';
import { missedRepairDeadlines, REPAIR_DEADLINE_LABEL, REPAIR_OPEN_STATES, REPAIR_UNDISPATCHED_STATES, repairDeadlineState } from '@heat-butler/shared';
import { withTx } from '../../platform/db/data-source';
import { recordTransition, SYSTEM } from '../../platform/state';
import type { StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import { RepairTicket } from './entities';
import { RepairsCore, SUBJECT } from './core';

/** The SLA side: escalation of overdue tickets, and the deadline figures of the staff dashboard. */
export class RepairEscalation extends RepairsCore {
  /**
   * Escalate open tickets past a deadline: first to the supervisor (the area's dispatchers), and
   * when still overdue the company's escalateToHeadMinutes later to the department head (admins).
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
    const toHeadMs = (await this.o.company.rules()).repairs.escalateToHeadMinutes * 60_000;
    let escalated = 0;
    for (const { id } of candidates) {
      const done = await withTx(this.ds, async (em) => {
        const t = await this.lockTicket(em, id, {});
        const missed = missedRepairDeadlines(t, now).map((k) => REPAIR_DEADLINE_LABEL[k]);
        if (!missed.length) return false;
        let level: number;
        if (t.escalationLevel === 0) level = 1;
        else if (t.escalationLevel === 1 && t.escalatedAt && now.getTime() - t.escalatedAt.getTime() >= toHeadMs) level = 2;
        else return false;
        await em.update(RepairTicket, id, { escalationLevel: level, escalatedAt: now });
        await recordTransition(em, SUBJECT, id, t.status, t.status, SYSTEM, `超时升级至${level === 1 ? '主管' : '部门负责人'}（${missed.join('、')}）`, {
          escalationLevel: level,
        });
        await this.notifyEscalation(em, t, level, `工单 ${t.no} ${missed.join('、')}已超时`, `overdue:${level}:r${t.reopenCount}`, now);
        return true;
      });
      if (done) escalated++;
    }
    return { escalated };
  }

  /**
   * Grab mode (Harbin 003): a new ticket nobody grabbed within the company's grabTimeoutMinutes is
   * assigned automatically (least loaded). Safe to run from several instances (row locks).
   */
  async dispatchUngrabbed(now: Date = this.o.clock()): Promise<{ assigned: number }> {
    const { repairs } = await this.o.company.rules();
    if (repairs.dispatchMode !== 'grab') return { assigned: 0 };
    const before = new Date(now.getTime() - repairs.grabTimeoutMinutes * 60_000);
    const due = await this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .where("t.status = 'pending' AND t.assigneeId IS NULL AND t.createdAt <= :before", { before })
      .select(['t.id'])
      .getMany();
    let assigned = 0;
    for (const { id } of due) {
      const done = await withTx(this.ds, async (em) => {
        const t = await this.lockTicket(em, id, {});
        if (t.status !== 'pending' || t.assigneeId !== null) return false;
        await this.autoDispatch(em, t, now, `${repairs.grabTimeoutMinutes}分钟内无人抢单，系统自动派单`);
        return true;
      });
      if (done) assigned++;
    }
    return { assigned };
  }

  /**
   * The dashboard's repair figures for the staff member's areas (a worker alone: only theirs):
   * tickets that still owe a deadline, split by the shared rule into on time, due soon and
   * overdue (the same tickets the repairs list shows under 已超时).
   */
  async deadlineSummary(p: StaffPrincipal, onlyMine: boolean): Promise<{ open: number; onTime: number; dueSoon: number; overdue: number }> {
    const now = this.o.clock();
    const qb = this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select([
        't.id',
        't.status',
        't.dispatchDueAt',
        't.contactedAt',
        't.contactDueAt',
        't.onSiteAt',
        't.onSiteDueAt',
        't.doneDueAt',
        't.resolvedAt',
        't.reportedAt',
        't.reportDueAt',
      ])
      .where(owesDeadline());
    scopeToAreas(qb, 't.areaId', p);
    if (onlyMine) qb.andWhere('t.assigneeId = :me', { me: p.staffId });
    const out = { open: 0, onTime: 0, dueSoon: 0, overdue: 0 };
    for (const t of await qb.getMany()) {
      const state = repairDeadlineState(t, now);
      if (!state) continue;
      out.open++;
      if (state === 'overdue') out.overdue++;
      else if (state === 'due_soon') out.dueSoon++;
      else out.onTime++;
    }
    return out;
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
}

/** SQL twin of owedRepairDeadlines (shared/src/overdue.ts): the ticket still owes a deadline. */
function owesDeadline(): Brackets {
  return new Brackets((o) =>
    o
      .where('t.status IN (:...open)', { open: REPAIR_OPEN_STATES })
      .orWhere("(t.status IN ('resolved', 'closed') AND t.reportedAt IS NULL AND t.reportDueAt IS NOT NULL)"),
  );
}

/**
 * SQL twin of missedRepairDeadlines (shared/src/overdue.ts): a deadline the ticket owes has passed
 * by `now`. `param` names the time's placeholder (two of these in one query need two names).
 */
export function overdueWhere(now: Date, param = 'now'): Brackets {
  return new Brackets((o) =>
    o
      .where(
        new Brackets((w) =>
          w.where('t.status IN (:...open)', { open: REPAIR_OPEN_STATES }).andWhere(
            new Brackets((b) =>
              b
                .where(`(t.status IN (:...undispatched) AND t.dispatchDueAt < :${param})`, { [param]: now, undispatched: REPAIR_UNDISPATCHED_STATES })
                .orWhere(`(t.contactedAt IS NULL AND t.contactDueAt < :${param})`, { [param]: now })
                .orWhere(`(t.onSiteAt IS NULL AND t.onSiteDueAt < :${param})`, { [param]: now })
                .orWhere(`(t.resolvedAt IS NULL AND t.doneDueAt < :${param})`, { [param]: now }),
            ),
          ),
        ),
      )
      .orWhere(`(t.status IN ('resolved', 'closed') AND t.reportedAt IS NULL AND t.reportDueAt < :${param})`, { [param]: now }),
  );
}
