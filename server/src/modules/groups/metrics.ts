import { staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import { responseStats, type GroupMetrics } from '@heat-butler/shared';
import { GroupMessage } from './entities';
import { GroupsCore } from './core';

/** Response metrics: first-response times stored when each answer happened, join rates. */
export class GroupMetricsReader extends GroupsCore {
  /** First-response time (median, p90) per agent and per area, unanswered count, join rates. */
  async metrics(p: StaffPrincipal, range: { from?: string; to?: string }): Promise<GroupMetrics> {
    const scope = staffAreaFilter(p);
    // the response time each answer stored when it happened (never recomputed from timestamps)
    const qb = this.ds
      .getRepository(GroupMessage)
      .createQueryBuilder('m')
      .select('m.answeredBy', 'answeredBy')
      .addSelect('m.areaId', 'areaId')
      .addSelect('m.responseSeconds', 'seconds')
      .where('m.senderKind = :rk', { rk: 'resident' })
      .andWhere('m.responseSeconds IS NOT NULL');
    if (scope !== 'all') {
      if (!scope.length) return { perAgent: [], perArea: [], unanswered: 0, joinRate: [] };
      qb.andWhere('m.areaId IN (:...areas)', { areas: scope });
    }
    if (range.from) qb.andWhere('m.createdAt >= :from', { from: new Date(range.from) });
    if (range.to) qb.andWhere('m.createdAt < :to', { to: new Date(range.to) });
    const answered: { answeredBy: number | string | null; areaId: number | string; seconds: number | string }[] = await qb.getRawMany();
    const byAgent = new Map<number, number[]>();
    const byArea = new Map<number, number[]>();
    for (const m of answered) {
      const s = Number(m.seconds);
      const agent = m.answeredBy === null ? null : Number(m.answeredBy);
      const area = Number(m.areaId);
      if (agent) byAgent.set(agent, [...(byAgent.get(agent) ?? []), s]);
      byArea.set(area, [...(byArea.get(area) ?? []), s]);
    }
    const names = new Map((await this.d.identity.staffByIds([...byAgent.keys()])).map((s) => [s.id, s.name]));
    const pending = this.pendingQuery();
    scopeToAreas(pending, 'm.areaId', p);
    const groups = await this.scopedGroups(p).getMany();
    const rates = await this.joinRates(groups);
    return {
      perAgent: [...byAgent].map(([staffId, s]) => ({ staffId, name: names.get(staffId) ?? '', ...responseStats(s) })).sort((a, b) => a.staffId - b.staffId),
      perArea: [...byArea].map(([areaId, s]) => ({ areaId, ...responseStats(s) })).sort((a, b) => a.areaId - b.areaId),
      unanswered: await pending.getCount(),
      joinRate: groups.map((g) => ({ groupId: g.id, buildingId: g.buildingId, name: g.name, ...rates.get(g.id)! })),
    };
  }
}
