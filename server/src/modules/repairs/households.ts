import { Brackets, type DataSource } from 'typeorm';
import type { WatchHousehold } from '@heat-butler/shared';
import type { StaffPrincipal } from '../../platform/auth';
import { RepairTicket } from './entities';
import type { RepairInsights } from './insights';

/** A household that booked repairs in a period, with how many tickets. */
export interface ComplainingHousehold {
  accountId: number;
  areaId: number;
  buildingId: number;
  tickets: number;
}

/** A low-temperature ticket fixed while the household read below a temperature. */
export interface ColdFix {
  ticketId: number;
  no: string;
  accountId: number;
  areaId: number;
  buildingId: number;
  round: number;
  resolvedAt: Date;
  readingDeciC: number;
}

/** Everyone's scope, for jobs that work on the whole company (never handed to a route). */
const WHOLE_COMPANY: StaffPrincipal = { kind: 'staff', staffId: 0, sessionId: 0, name: 'system', roles: ['admin'], areaIds: [] };

/**
 * What the complaints module's watch program reads of repairs (Heihe 004): the households that
 * booked repairs in a season (the hazard ledger counts them with the complaints), the watch list of
 * a season for first-day visits, and low-temperature fixes to re-measure.
 */
export class RepairHouseholds {
  constructor(
    private ds: DataSource,
    private insights: RepairInsights,
  ) {}

  async complainingHouseholds(from: Date, to: Date, areaIds: number[] | 'all'): Promise<ComplainingHousehold[]> {
    if (areaIds !== 'all' && !areaIds.length) return [];
    const qb = this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select('t.accountId', 'accountId')
      .addSelect('t.areaId', 'areaId')
      .addSelect('t.buildingId', 'buildingId')
      .addSelect('COUNT(*)', 'n')
      .where('t.createdAt >= :from AND t.createdAt < :to', { from, to })
      .andWhere("t.status <> 'cancelled'");
    if (areaIds !== 'all') qb.andWhere('t.areaId IN (:...areaIds)', { areaIds });
    const rows = await qb.groupBy('t.accountId').addGroupBy('t.areaId').addGroupBy('t.buildingId').getRawMany();
    return rows.map((r) => ({ accountId: Number(r.accountId), areaId: Number(r.areaId), buildingId: Number(r.buildingId), tickets: Number(r.n) }));
  }

  /** The whole company's watch list households of a season (the season's start year). */
  async watchHouseholds(seasonYear: number): Promise<WatchHousehold[]> {
    return (await this.insights.watchList(WHOLE_COMPANY, { season: seasonYear })).households;
  }

  /** 室温不达标 tickets resolved since `since` whose resident reading was below `belowDeciC`. */
  async coldFixesSince(since: Date, belowDeciC: number): Promise<ColdFix[]> {
    const rows = await this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .where("t.category = 'low_temp'")
      .andWhere('t.resolvedAt >= :since', { since })
      .andWhere(new Brackets((b) => b.where('t.residentReadingDeciC IS NOT NULL').andWhere('t.residentReadingDeciC < :below', { below: belowDeciC })))
      .andWhere("t.status IN ('resolved', 'closed')")
      .getMany();
    return rows.map((t) => ({
      ticketId: t.id,
      no: t.no,
      accountId: t.accountId,
      areaId: t.areaId,
      buildingId: t.buildingId,
      round: t.reopenCount,
      resolvedAt: t.resolvedAt!,
      readingDeciC: t.residentReadingDeciC!,
    }));
  }
}
