/**
 * The low-temperature watch program (Heihe 004, "solve before the complaint"): visit tasks for last
 * season's watch-list households from the first heating day, a re-measure task
 * `repairs.watchList.remeasureAfterMinutes` (30) after a 室温不达标 repair is fixed when the
 * household read below `remeasureBelowC` (20 °C), and the hazard ledger: buildings where at least
 * `buildingComplaintHouseholds` (10) households complained in a season — by a repair ticket or a
 * complaint — listed with those households.
 */
import { Like, type DataSource } from 'typeorm';
import {
  latestSeasonStartYear,
  seasonWindow,
  WATCH_TASK_KIND_LABEL,
  type HazardBuilding,
  type HazardLedgerQuery,
  type HazardLedgerView,
  type WatchTaskDoneRequest,
  type WatchTaskQuery,
  type WatchTaskView,
} from '@heat-butler/shared';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { staffAreaFilter, type StaffPrincipal } from '../../platform/auth';
import { inScope, scopeToAreas } from '../../platform/scope';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { RepairsService } from '../repairs';
import type { ComplaintsService } from './service';
import { WatchTask } from './entities';

export interface WatchOptions {
  ds: DataSource;
  accounts: AccountsService;
  company: CompanyService;
  repairs: RepairsService;
  complaints: ComplaintsService;
  clock: () => Date;
}

/** how far back the re-measure scan looks for fixes (a job that was down catches up within this) */
const REMEASURE_LOOKBACK_MS = 24 * 3_600_000;
const OPEN = { status: 'open' as const, doneAt: null, doneBy: null, readingDeciC: null, notes: null };
/** first-day visits are made on the first heating day; a job that was down makes them within this */
const CATCH_UP_MS = 7 * 24 * 3_600_000;

export class WatchProgram {
  constructor(private o: WatchOptions) {}

  private get ds() {
    return this.o.ds;
  }

  /** The scheduled work: first-day visits and re-measure tasks (idempotent: one task per cause). */
  async run(now: Date = this.o.clock()): Promise<{ visits: number; remeasures: number }> {
    return { visits: await this.createFirstDayVisits(now), remeasures: await this.createRemeasures(now) };
  }

  /**
   * From the first heating day of a season (China time) until its end: one visit task per
   * household on the watch list of the season before, due at the end of the first heating day.
   */
  async createFirstDayVisits(now: Date): Promise<number> {
    const rules = await this.o.company.rules();
    const year = latestSeasonStartYear(now, rules);
    const season = seasonWindow(year, rules);
    // the first heating day, with a week to catch up after an outage; once made, never recomputed
    if (now < season.start || now >= season.end || now.getTime() - season.start.getTime() >= CATCH_UP_MS) return 0;
    if (await this.ds.getRepository(WatchTask).exists({ where: { kind: 'first_day_visit', dedupeKey: Like(`visit:${year}:%`) } })) return 0;
    const households = await this.o.repairs.households.watchHouseholds(year - 1);
    const dueAt = new Date(season.start.getTime() + 24 * 3_600_000);
    // all of them or none: the check above is "a visit task of this season exists"
    const rows = households.map((h) => ({
      kind: 'first_day_visit' as const,
      dedupeKey: `visit:${year}:${h.accountId}`,
      accountId: h.accountId,
      areaId: h.areaId,
      repairTicketId: null,
      reason: `上季低温关注户：${h.reasons.join('；')}`.slice(0, 200),
      dueAt,
      ...OPEN,
    }));
    if (rows.length) await withTx(this.ds, (em) => em.getRepository(WatchTask).insert(rows));
    return rows.length;
  }

  /** A re-measure task for each cold fix of the last day, due remeasureAfterMinutes after the fix. */
  async createRemeasures(now: Date): Promise<number> {
    const watch = (await this.o.company.rules()).repairs.watchList;
    const fixes = await this.o.repairs.households.coldFixesSince(new Date(now.getTime() - REMEASURE_LOOKBACK_MS), Math.round(watch.remeasureBelowC * 10));
    let n = 0;
    for (const f of fixes) {
      const reason = `工单 ${f.no} 已修复，报修时室温 ${(f.readingDeciC / 10).toFixed(1)}℃（低于${watch.remeasureBelowC}℃），请复测`;
      const dueAt = new Date(f.resolvedAt.getTime() + watch.remeasureAfterMinutes * 60_000);
      if (
        await this.add({
          kind: 'remeasure',
          dedupeKey: `remeasure:${f.ticketId}:${f.round}`,
          accountId: f.accountId,
          areaId: f.areaId,
          repairTicketId: f.ticketId,
          reason,
          dueAt,
        })
      )
        n++;
    }
    return n;
  }

  async tasks(staff: StaffPrincipal, q: z.output<typeof WatchTaskQuery>) {
    const qb = this.ds.getRepository(WatchTask).createQueryBuilder('w').where('w.status = :status', { status: q.status });
    scopeToAreas(qb, 'w.areaId', staff);
    if (q.kind) qb.andWhere('w.kind = :kind', { kind: q.kind });
    const [rows, total] = await qb
      .orderBy('w.dueAt', q.status === 'open' ? 'ASC' : 'DESC')
      .addOrderBy('w.id', 'ASC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
    return { items: await this.present(rows), total, page: q.page, pageSize: q.pageSize };
  }

  /** Done: a re-measure needs the reading; a visit may carry one. */
  async done(staff: StaffPrincipal, id: number, req: z.output<typeof WatchTaskDoneRequest>): Promise<WatchTaskView> {
    const now = this.o.clock();
    await withTx(this.ds, async (em) => {
      const t = await forUpdate(em.createQueryBuilder(WatchTask, 'w').where('w.id = :id', { id })).getOne();
      if (!t || !inScope(staff, t.areaId)) throw new AppError('WATCH_TASK_NOT_FOUND');
      if (t.status !== 'open') throw new AppError('CONFLICT');
      if (t.kind === 'remeasure' && req.readingC === undefined)
        throw new AppError('WATCH_TASK_READING_REQUIRED', { fields: [{ field: 'readingC', message: '请填写复测的室温读数' }] });
      await em.update(WatchTask, id, {
        status: 'done',
        doneAt: now,
        doneBy: staff.staffId,
        readingDeciC: req.readingC === undefined ? null : Math.round(req.readingC * 10),
        notes: req.notes ?? null,
      });
    });
    const row = await this.ds.getRepository(WatchTask).findOneByOrFail({ id });
    return (await this.present([row]))[0]!;
  }

  async hazards(staff: StaffPrincipal, q: z.output<typeof HazardLedgerQuery>): Promise<HazardLedgerView> {
    const rules = await this.o.company.rules();
    const year = q.season ?? latestSeasonStartYear(this.o.clock(), rules);
    const season = seasonWindow(year, rules);
    const threshold = rules.repairs.watchList.buildingComplaintHouseholds;
    const scope = staffAreaFilter(staff);
    const view: HazardLedgerView = {
      season: { label: season.label, start: season.start.toISOString(), end: season.end.toISOString() },
      threshold,
      buildings: [],
    };
    const [repairs, complaints] = await Promise.all([
      this.o.repairs.households.complainingHouseholds(season.start, season.end, scope),
      this.o.complaints.complainingHouseholds(season.start, season.end, scope),
    ]);
    type Hh = { repairTickets: number; complaints: number };
    const perBuilding = new Map<number, { areaId: number; households: Map<number, Hh> }>();
    const hh = (buildingId: number, areaId: number, accountId: number): Hh => {
      const b = perBuilding.get(buildingId) ?? perBuilding.set(buildingId, { areaId, households: new Map() }).get(buildingId)!;
      return b.households.get(accountId) ?? b.households.set(accountId, { repairTickets: 0, complaints: 0 }).get(accountId)!;
    };
    for (const r of repairs) hh(r.buildingId, r.areaId, r.accountId).repairTickets += r.tickets;
    for (const c of complaints) hh(c.buildingId, c.areaId, c.accountId).complaints += c.complaints;
    const hot = [...perBuilding.entries()].filter(([, b]) => b.households.size >= threshold);
    if (!hot.length) return view;
    const buildings = new Map((await this.o.accounts.buildingsByIds(hot.map(([id]) => id))).map((b) => [b.id, b]));
    const accounts = await this.o.accounts.accountsByIds(hot.flatMap(([, b]) => [...b.households.keys()]));
    const ctx = await this.o.accounts.addressContext(accounts);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const areas = new Map((await this.o.company.areas()).map((a) => [a.id, a.name]));
    view.buildings = hot
      .map(([buildingId, b]): HazardBuilding => {
        const building = buildings.get(buildingId);
        return {
          buildingId,
          areaId: b.areaId,
          areaName: areas.get(b.areaId) ?? '',
          name: building?.name ?? '',
          address: building?.address ?? '',
          households: [...b.households.entries()]
            .map(([accountId, h]) => {
              const a = byId.get(accountId);
              return { accountId, accountNo: a?.accountNo ?? '', address: a ? ctx.address(a) : '', ...h };
            })
            .sort((x, y) => x.accountNo.localeCompare(y.accountNo)),
        };
      })
      .sort((x, y) => y.households.length - x.households.length || x.buildingId - y.buildingId);
    return view;
  }

  private async add(t: Pick<WatchTask, 'kind' | 'dedupeKey' | 'accountId' | 'areaId' | 'repairTicketId' | 'reason' | 'dueAt'>): Promise<boolean> {
    try {
      await this.ds.getRepository(WatchTask).insert({ ...t, ...OPEN });
      return true;
    } catch (err) {
      if (isUniqueViolation(err)) return false;
      throw err;
    }
  }

  private async present(rows: WatchTask[]): Promise<WatchTaskView[]> {
    if (!rows.length) return [];
    const now = this.o.clock();
    const accounts = await this.o.accounts.accountsByIds([...new Set(rows.map((r) => r.accountId))]);
    const ctx = await this.o.accounts.addressContext(accounts);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    return rows.map((t) => {
      const a = byId.get(t.accountId);
      return {
        id: t.id,
        kind: t.kind,
        kindLabel: WATCH_TASK_KIND_LABEL[t.kind],
        accountId: t.accountId,
        accountNo: a?.accountNo ?? '',
        areaId: t.areaId,
        address: a ? ctx.address(a) : '',
        reason: t.reason,
        dueAt: t.dueAt.toISOString(),
        status: t.status,
        doneAt: t.doneAt?.toISOString() ?? null,
        readingC: t.readingDeciC === null ? null : t.readingDeciC / 10,
        notes: t.notes,
        repairTicketId: t.repairTicketId,
        overdue: t.status === 'open' && t.dueAt < now,
      };
    });
  }
}
