import { In, type DataSource } from 'typeorm';
import {
  COMPLIANCE_LABEL,
  formatChinaTime,
  lastSeasonStartYear,
  median,
  REPAIR_CATEGORIES,
  REPAIR_CATEGORY_LABEL,
  RepairReportQuery,
  seasonWindow,
  WatchListQuery,
  type Compliance,
  type RepairCategory,
  type RepairReportView,
  type RepairSlaRow,
  type WatchBuilding,
  type WatchHousehold,
  type WatchListView,
} from '@heat-butler/shared';
import { DateTime } from 'luxon';
import type { z } from 'zod';
import { AppError } from '../../platform/errors';
import { sheet, xlsxBuffer } from '../../platform/xlsx';
import type { StaffPrincipal } from '../../platform/auth';
import { staffAreaFilter } from '../../platform/auth';
import { scopeToAreas } from '../../platform/scope';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import { RepairTicket, TemperatureMeasurement } from './entities';

export interface InsightsOptions {
  ds: DataSource;
  accounts: AccountsService;
  company: CompanyService;
  clock: () => Date;
}

type Clock = 'met' | 'missed' | 'open' | 'na';

/**
 * Read-side of repairs: the watch list for proactive visits (Heihe's "solve before the
 * complaint") and SLA / satisfaction reports with an XLSX export. Scoped to the staff's areas.
 */
export class RepairInsights {
  constructor(private o: InsightsOptions) {}

  private get ds() {
    return this.o.ds;
  }

  /**
   * Households with a measurement below the promise (or a resident reading below 18 °C) or
   * repeated 室温不达标 tickets in the season, and buildings where at least the company's number of
   * households complained (Heihe 004: 隐患台账 by households, not by tickets — one household's ten
   * tickets are one complaining household).
   */
  async watchList(staff: StaffPrincipal, q: z.output<typeof WatchListQuery>): Promise<WatchListView> {
    const rules = await this.o.company.rules();
    const year = q.season ?? lastSeasonStartYear(this.o.clock(), rules);
    const season = seasonWindow(year, rules);
    const watch = rules.repairs.watchList;
    const scope = staffAreaFilter(staff);
    const empty: WatchListView = {
      season: { label: season.label, start: season.start.toISOString(), end: season.end.toISOString() },
      households: [],
      buildings: [],
      thresholds: {
        buildingComplaints: watch.buildingComplaintHouseholds,
        repeatedLowTemp: watch.repeatedLowTempTickets,
        minTemperatureC: rules.minTemperatureC,
      },
    };
    if (scope !== 'all' && !scope.length) return empty;

    const tq = this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .select(['t.id', 't.accountId', 't.areaId', 't.buildingId', 't.category', 't.residentReadingDeciC'])
      .where('t.createdAt >= :start AND t.createdAt < :end', season)
      .andWhere("t.status <> 'cancelled'");
    scopeToAreas(tq, 't.areaId', staff);
    const tickets = await tq.getMany();

    const mq = this.ds
      .getRepository(TemperatureMeasurement)
      .createQueryBuilder('m')
      .select(['m.id', 'm.accountId', 'm.areaId', 'm.minReadingDeciC', 'm.compliance'])
      .where('m.measuredAt >= :start AND m.measuredAt < :end', season)
      .andWhere('m.minReadingDeciC IS NOT NULL');
    scopeToAreas(mq, 'm.areaId', staff);
    const measurements = await mq.getMany();

    // households
    const minLegal = Math.round(rules.minTemperatureC * 10);
    const hh = new Map<number, { lowest: number | null; lowestCompliance: string | null; ownLowest: number | null; lowTemp: number }>();
    const get = (accountId: number) =>
      hh.get(accountId) ?? hh.set(accountId, { lowest: null, lowestCompliance: null, ownLowest: null, lowTemp: 0 }).get(accountId)!;
    for (const m of measurements) {
      if (m.compliance === 'ok') continue;
      const h = get(m.accountId);
      if (h.lowest === null || m.minReadingDeciC! < h.lowest) {
        h.lowest = m.minReadingDeciC;
        h.lowestCompliance = m.compliance;
      }
    }
    for (const t of tickets) {
      if (t.category !== 'low_temp') continue;
      const h = get(t.accountId);
      h.lowTemp++;
      if (t.residentReadingDeciC !== null && t.residentReadingDeciC < minLegal && (h.ownLowest === null || t.residentReadingDeciC < h.ownLowest))
        h.ownLowest = t.residentReadingDeciC;
    }
    const flagged = [...hh.entries()].filter(([, h]) => h.lowest !== null || h.ownLowest !== null || h.lowTemp >= watch.repeatedLowTempTickets);
    const accounts = await this.o.accounts.accountsByIds(flagged.map(([id]) => id));
    const ctx = await this.o.accounts.addressContext(accounts);
    const byId = new Map(accounts.map((a) => [a.id, a]));
    const households: WatchHousehold[] = [];
    for (const [accountId, h] of flagged) {
      const a = byId.get(accountId);
      if (!a) continue;
      const reasons: string[] = [];
      if (h.lowest !== null) reasons.push(`测温 ${(h.lowest / 10).toFixed(1)}℃ ${COMPLIANCE_LABEL[h.lowestCompliance as Compliance] ?? ''}`.trim());
      if (h.ownLowest !== null) reasons.push(`住户自测 ${(h.ownLowest / 10).toFixed(1)}℃`);
      if (h.lowTemp >= watch.repeatedLowTempTickets) reasons.push(`室温不达标报修 ${h.lowTemp} 次`);
      else if (h.lowTemp) reasons.push(`室温不达标报修 ${h.lowTemp} 次`);
      const lowest = [h.lowest, h.ownLowest].filter((x): x is number => x !== null);
      households.push({
        accountId,
        accountNo: a.accountNo,
        areaId: a.areaId,
        areaName: ctx.areas.get(a.areaId)?.name ?? '',
        address: ctx.address(a),
        reasons,
        lowestReadingC: lowest.length ? Math.min(...lowest) / 10 : null,
        lowTempTickets: h.lowTemp,
      });
    }
    // the coldest first, then the most tickets
    households.sort(
      (x, y) => (x.lowestReadingC ?? 99) - (y.lowestReadingC ?? 99) || y.lowTempTickets - x.lowTempTickets || x.accountNo.localeCompare(y.accountNo),
    );

    // buildings: the households that complained (any ticket of the season), and their tickets
    const perBuilding = new Map<number, { areaId: number; households: Set<number>; tickets: number; byCategory: Partial<Record<RepairCategory, number>> }>();
    for (const t of tickets) {
      const b =
        perBuilding.get(t.buildingId) ??
        perBuilding.set(t.buildingId, { areaId: t.areaId, households: new Set(), tickets: 0, byCategory: {} }).get(t.buildingId)!;
      b.households.add(t.accountId);
      b.tickets++;
      b.byCategory[t.category] = (b.byCategory[t.category] ?? 0) + 1;
    }
    const hot = [...perBuilding.entries()].filter(([, b]) => b.households.size >= watch.buildingComplaintHouseholds);
    const buildingRows = await this.o.accounts.buildingsByIds(hot.map(([id]) => id));
    const areas = await this.areaNames();
    const bById = new Map(buildingRows.map((b) => [b.id, b]));
    const buildings: WatchBuilding[] = hot
      .map(([buildingId, b]) => ({
        buildingId,
        areaId: b.areaId,
        areaName: areas.get(b.areaId) ?? '',
        name: bById.get(buildingId)?.name ?? '',
        address: bById.get(buildingId)?.address ?? '',
        complaints: b.households.size,
        tickets: b.tickets,
        byCategory: b.byCategory,
      }))
      .sort((x, y) => y.complaints - x.complaints || x.buildingId - y.buildingId);

    return { ...empty, households, buildings };
  }

  // ---- reports ------------------------------------------------------------------------------

  async report(staff: StaffPrincipal, q: z.output<typeof RepairReportQuery>): Promise<RepairReportView> {
    const now = this.o.clock();
    const today = DateTime.fromJSDate(now).setZone('Asia/Shanghai').startOf('day');
    const from = q.from ? DateTime.fromISO(q.from, { zone: 'Asia/Shanghai' }) : today.minus({ days: 29 });
    const to = q.to ? DateTime.fromISO(q.to, { zone: 'Asia/Shanghai' }) : today;
    if (!from.isValid || !to.isValid) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'from', message: '日期无效' }] });
    if (to.diff(from, 'days').days > 366) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'from', message: '统计区间不超过一年' }] });
    const scope = staffAreaFilter(staff);
    const areas = await this.areaNames();
    const stars = (await this.o.company.rules()).repairs.unsatisfiedBelowStars;
    const view: RepairReportView = {
      from: from.toISODate()!,
      to: to.toISODate()!,
      total: row('all', '全部', [], now, stars),
      byArea: [],
      byCategory: [],
      byUrgency: [],
      ratings: [1, 2, 3, 4, 5].map((stars) => ({ stars, count: 0 })),
    };
    if (q.areaId && scope !== 'all' && !scope.includes(q.areaId)) throw new AppError('FORBIDDEN');
    if (scope !== 'all' && !scope.length) return view;
    const qb = this.ds
      .getRepository(RepairTicket)
      .createQueryBuilder('t')
      .where('t.createdAt >= :start AND t.createdAt < :end', { start: from.toJSDate(), end: to.plus({ days: 1 }).toJSDate() })
      .andWhere("t.status <> 'cancelled'");
    if (q.areaId) qb.andWhere('t.areaId = :areaId', { areaId: q.areaId });
    else scopeToAreas(qb, 't.areaId', staff);
    const tickets = await qb.getMany();

    view.total = row('all', '全部', tickets, now, stars);
    const areaIds = [...new Set(tickets.map((t) => t.areaId))].sort((a, b) => a - b);
    view.byArea = areaIds.map((id) =>
      row(
        String(id),
        areas.get(id) ?? `片区${id}`,
        tickets.filter((t) => t.areaId === id),
        now,
        stars,
      ),
    );
    view.byCategory = REPAIR_CATEGORIES.map((c) =>
      row(
        c,
        REPAIR_CATEGORY_LABEL[c],
        tickets.filter((t) => t.category === c),
        now,
        stars,
      ),
    ).filter((r) => r.tickets > 0);
    view.byUrgency = [
      row(
        'emergency',
        '紧急',
        tickets.filter((t) => t.emergency),
        now,
        stars,
      ),
      row(
        'routine',
        '一般',
        tickets.filter((t) => !t.emergency),
        now,
        stars,
      ),
    ].filter((r) => r.tickets > 0);
    for (const t of tickets) if (t.rating) view.ratings[t.rating - 1]!.count++;
    return view;
  }

  async reportXlsx(staff: StaffPrincipal, q: z.output<typeof RepairReportQuery>): Promise<Buffer> {
    const r = await this.report(staff, q);
    const pct = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 10);
    const num = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
    const slaSheet = (name: string, rows: RepairSlaRow[], first: string, title?: string) =>
      sheet<RepairSlaRow>({
        name,
        title,
        rows,
        columns: [
          { header: first, width: 16, value: (x) => x.label },
          { header: '工单数', width: 8, value: (x) => x.tickets },
          { header: '已判定', width: 8, value: (x) => x.evaluated },
          { header: '全部达标', width: 9, value: (x) => x.compliant },
          { header: 'SLA达标率%', width: 11, value: (x) => pct(x.complianceRate) },
          { header: '联系及时率%', width: 12, value: (x) => pct(x.contactRate) },
          { header: '上门及时率%', width: 12, value: (x) => pct(x.onSiteRate) },
          { header: '完工及时率%', width: 12, value: (x) => pct(x.doneRate) },
          { header: '联系时长中位数(分)', width: 16, value: (x) => num(x.medianContactMinutes) },
          { header: '上门时长中位数(分)', width: 16, value: (x) => num(x.medianOnSiteMinutes) },
          { header: '完工时长中位数(分)', width: 16, value: (x) => num(x.medianDoneMinutes) },
          { header: '评价数', width: 8, value: (x) => x.rated },
          { header: '平均星级', width: 9, value: (x) => num(x.avgRating) },
          { header: '满意率%', width: 9, value: (x) => pct(x.satisfiedRate) },
        ],
      });
    return xlsxBuffer([
      slaSheet('按片区', [...r.byArea, r.total], '片区', `报修服务统计 ${r.from} 至 ${r.to}（导出于 ${formatChinaTime(this.o.clock())}）`),
      slaSheet('按类型', r.byCategory, '报修类型'),
      slaSheet('紧急与一般', r.byUrgency, '类别'),
      sheet<(typeof r.ratings)[number]>({
        name: '评价分布',
        rows: r.ratings,
        columns: [
          { header: '星级', width: 8, value: (s) => s.stars },
          { header: '数量', width: 8, value: (s) => s.count },
        ],
      }),
    ]);
  }

  private async areaNames(): Promise<Map<number, string>> {
    return new Map((await this.o.company.areas()).map((a) => [a.id, a.name]));
  }
}

/** A deadline's outcome: met (done by the due time), missed (late, or not done and past due), open. */
function clock(doneAt: Date | null, dueAt: Date | null, now: Date): Clock {
  if (!dueAt) return 'na';
  if (doneAt) return doneAt <= dueAt ? 'met' : 'missed';
  return now > dueAt ? 'missed' : 'open';
}

function rate(cs: Clock[]): number | null {
  const decided = cs.filter((c) => c === 'met' || c === 'missed');
  return decided.length ? decided.filter((c) => c === 'met').length / decided.length : null;
}

const minutesSince = (from: Date, to: Date | null) => (to ? (to.getTime() - from.getTime()) / 60_000 : null);

/** `satisfiedFrom`: the fewest stars that count as satisfied (the company's 低于几星视为不满意). */
function row(key: string, label: string, tickets: RepairTicket[], now: Date, satisfiedFrom: number): RepairSlaRow {
  let evaluated = 0;
  let compliant = 0;
  const contact: Clock[] = [];
  const onSite: Clock[] = [];
  const done: Clock[] = [];
  for (const t of tickets) {
    const cs = [
      clock(t.contactedAt, t.contactDueAt, now),
      clock(t.onSiteAt, t.onSiteDueAt, now),
      clock(t.resolvedAt, t.doneDueAt, now),
      ...(t.reportDueAt ? [clock(t.reportedAt, t.reportDueAt, now)] : []),
    ];
    contact.push(cs[0]!);
    onSite.push(cs[1]!);
    done.push(cs[2]!);
    if (cs.includes('missed')) evaluated++;
    else if (!cs.includes('open')) {
      evaluated++;
      compliant++;
    }
  }
  const ratings = tickets.map((t) => t.rating).filter((r): r is number => r !== null);
  const nn = (xs: (number | null)[]) => xs.filter((x): x is number => x !== null);
  return {
    key,
    label,
    tickets: tickets.length,
    evaluated,
    compliant,
    complianceRate: evaluated ? compliant / evaluated : null,
    contactRate: rate(contact),
    onSiteRate: rate(onSite),
    doneRate: rate(done),
    medianContactMinutes: median(nn(tickets.map((t) => minutesSince(t.createdAt, t.contactedAt)))),
    medianOnSiteMinutes: median(nn(tickets.map((t) => minutesSince(t.createdAt, t.onSiteAt)))),
    medianDoneMinutes: median(nn(tickets.map((t) => minutesSince(t.createdAt, t.resolvedAt)))),
    rated: ratings.length,
    avgRating: ratings.length ? ratings.reduce((s, r) => s + r, 0) / ratings.length : null,
    satisfiedRate: ratings.length ? ratings.filter((r) => r >= satisfiedFrom).length / ratings.length : null,
  };
}
