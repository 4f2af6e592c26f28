/**
 * Reading reconciliation: the calendar of days (their counts kept on the day), one day with its
 * differences (open first, at most DAY_LIST_LIMIT of them: a day with a million differences is read
 * through the export), the double payments of a day, and the view shapes.
 */
import type { DataSource } from 'typeorm';
import { DateTime } from 'luxon';
import {
  BUSINESS_ZONE,
  dateInYear,
  isoDate,
  seasonCode,
  DISCREPANCY_KIND_LABELS,
  DUPLICATE_PAIR_STATE_LABELS,
  RECON_DAY_STATUS_LABELS,
  REFUND_STATE_LABEL,
  type DiscrepancyView,
  type DuplicatePaymentPair,
  type ReconDayDetail,
  type ReconDayView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import type { CompanyService } from '../company';
import type { PaymentOrder, PaymentsService } from '../payments';
import { ReconDay, ReconDiscrepancy } from './entities';
import { emptyClasses, iso } from './types';

/** differences listed with a day (the rest: the export) */
export const DAY_LIST_LIMIT = 1000;

/** [start, end) of a China date, as UTC instants */
export function dayRange(billDate: string): [Date, Date] {
  const start = DateTime.fromISO(billDate, { zone: BUSINESS_ZONE }).startOf('day');
  return [start.toJSDate(), start.plus({ days: 1 }).toJSDate()];
}

/** A day as its differences' pages need it (a ReconDay row or its view). */
type DayCounts = Pick<ReconDay, 'billDate' | 'openDiscrepancies' | 'totalDiscrepancies'>;

export class ReconReader {
  constructor(private o: { ds: DataSource; payments: PaymentsService; company: CompanyService; clock: () => Date }) {}

  private get ds() {
    return this.o.ds;
  }

  /** Every date of the range (default: the last 31 days up to yesterday), newest first, with status. */
  async days(q: { from?: string; to?: string; season?: string }, now: Date = this.o.clock()): Promise<ReconDayView[]> {
    const today = DateTime.fromJSDate(now).setZone(BUSINESS_ZONE).startOf('day');
    const invalid = (field: string, message: string) => new AppError('VALIDATION_FAILED', { fields: [{ field, message }] });
    if (q.season) {
      if (!seasonCode().safeParse(q.season).success) throw invalid('query.season', '采暖季格式应为 2026-2027');
      const y1 = Number(q.season.slice(0, 4));
      const rules = await this.o.company.rules();
      const seasonEnd = dateInYear(y1 + 1, rules.seasonEnd);
      const todayStr = today.toFormat('yyyy-LL-dd');
      q = { from: dateInYear(y1, rules.seasonStart), to: seasonEnd < todayStr ? seasonEnd : todayStr };
      if (q.from! > q.to!) return [];
    }
    const to = q.to ?? today.minus({ days: 1 }).toFormat('yyyy-LL-dd');
    const from = q.from ?? DateTime.fromISO(to, { zone: BUSINESS_ZONE }).minus({ days: 30 }).toFormat('yyyy-LL-dd');
    for (const [field, v] of [
      ['query.from', from],
      ['query.to', to],
    ] as const) {
      if (!isoDate().safeParse(v).success) throw invalid(field, '日期不存在或不在有效范围内');
    }
    if (from > to) throw invalid('query.from', '开始日期不能晚于结束日期');
    const end = DateTime.fromISO(to, { zone: 'utc' });
    const span = Math.round(end.diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days);
    if (!(span >= 0 && span <= 366)) throw invalid('query.from', '日期范围不能超过一年');
    const rows = await this.ds.getRepository(ReconDay).createQueryBuilder('d').where('d.billDate >= :from AND d.billDate <= :to', { from, to }).getMany();
    const byDate = new Map(rows.map((d) => [d.billDate, d]));
    const out: ReconDayView[] = [];
    // a counted loop over at most 367 days: ends whatever the dates are
    for (let i = 0; i <= span; i++) {
      const date = end.minus({ days: i }).toFormat('yyyy-LL-dd');
      const row = byDate.get(date);
      out.push(row ? dayView(row) : noneView(date));
    }
    return out;
  }

  /** One day: its totals, its differences (open first, each status in key order; at most DAY_LIST_LIMIT), its double payments. */
  async day(billDate: string): Promise<ReconDayDetail> {
    const row = await this.ds.getRepository(ReconDay).findOne({ where: { billDate } });
    if (!row) return { ...noneView(billDate), discrepancies: [], duplicatePayments: [] };
    const discrepancies: DiscrepancyView[] = [];
    for await (const page of this.pages(row, DAY_LIST_LIMIT)) {
      discrepancies.push(...page.slice(0, DAY_LIST_LIMIT - discrepancies.length));
      if (discrepancies.length >= DAY_LIST_LIMIT) break;
    }
    return { ...dayView(row), discrepancies, duplicatePayments: await this.duplicatePairs(billDate) };
  }

  /** A day's differences, open first, each status in key order, a page at a time (the export). */
  async *discrepancies(day: DayCounts, pageSize = 2000): AsyncGenerator<DiscrepancyView> {
    for await (const page of this.pages(day, pageSize)) yield* page;
  }

  /**
   * Pages of a day's differences along its primary key (day, key): the open ones, then the resolved
   * ones; a status the day's counts say it has none of is not read at all.
   */
  private async *pages(day: DayCounts, pageSize: number): AsyncGenerator<DiscrepancyView[]> {
    const has = { open: day.openDiscrepancies > 0, resolved: day.totalDiscrepancies > day.openDiscrepancies };
    for (const status of ['open', 'resolved'] as const) {
      if (!has[status]) continue;
      for (let after = ''; ;) {
        const page = await this.ds
          .getRepository(ReconDiscrepancy)
          .createQueryBuilder('d')
          .where('d.billDate = :billDate AND d.key > :after AND d.status = :status', { billDate: day.billDate, status, after })
          .orderBy('d.key', 'ASC')
          .limit(pageSize)
          .getMany();
        if (!page.length) break;
        yield page.map(discrepancyView);
        if (page.length < pageSize) break;
        after = page[page.length - 1]!.key;
      }
    }
  }

  async dayView(billDate: string): Promise<ReconDayView> {
    return dayView(await this.ds.getRepository(ReconDay).findOneByOrFail({ billDate }));
  }

  /**
   * Bills paid again by a payment made on `billDate` (China time), each with how it was settled
   * first and the automatic refund of the part paid twice. Read live, so a refund confirmed later shows.
   */
  async duplicatePairs(billDate: string): Promise<DuplicatePaymentPair[]> {
    const [start, end] = dayRange(billDate);
    const pay = (o: PaymentOrder, amountFen = Number(o.amountFen)) => ({
      orderId: o.id,
      outTradeNo: o.outTradeNo,
      transactionId: o.transactionId,
      amountFen,
      paidAt: iso(o.paidAt),
    });
    return (await this.o.payments.ledgerQueries.duplicates(start, end)).map((d) => {
      const done = d.refunds.filter((r) => r.refund.status === 'success');
      const shown = done[0] ?? d.refunds.at(-1) ?? null;
      const outstandingFen = d.amountFen - done.reduce((n, r) => n + r.amountFen, 0);
      const state =
        outstandingFen <= 0 ? 'refunded' : d.refunds.some((r) => r.refund.status === 'requested' || r.refund.status === 'processing') ? 'refunding' : 'open';
      return {
        billId: d.billId,
        accountId: d.order.accountId,
        keptVia: d.first?.via ?? null,
        kept: d.first?.via === 'wechat' ? pay(d.first.order) : null,
        counterPaidAt: d.first?.via === 'counter' ? iso(d.first.paidAt) : null,
        duplicate: pay(d.order, d.amountFen),
        refund: shown
          ? {
              outRefundNo: shown.refund.outRefundNo,
              amountFen: shown.amountFen,
              status: shown.refund.status,
              statusLabel: REFUND_STATE_LABEL[shown.refund.status],
              succeededAt: iso(shown.refund.succeededAt),
            }
          : null,
        outstandingFen: Math.max(0, outstandingFen),
        state,
        stateLabel: DUPLICATE_PAIR_STATE_LABELS[state],
      };
    });
  }
}

export function noneView(billDate: string): ReconDayView {
  return {
    billDate,
    status: 'none',
    statusLabel: RECON_DAY_STATUS_LABELS.none,
    closed: false,
    wechat: null,
    summary: null,
    summaryMatches: null,
    ledger: null,
    classes: null,
    healed: [],
    openDiscrepancies: 0,
    totalDiscrepancies: 0,
    emptyBill: false,
    billHash: null,
    billBytes: null,
    runs: 0,
    lastRunAt: null,
    lastError: null,
    nextAttemptAt: null,
    closedAt: null,
  };
}

export function dayView(d: ReconDay): ReconDayView {
  return {
    billDate: d.billDate,
    status: d.status,
    statusLabel: RECON_DAY_STATUS_LABELS[d.status],
    closed: d.status === 'balanced',
    wechat: d.wechat,
    summary: d.summary,
    summaryMatches: d.summaryMatches,
    ledger: d.ledger,
    classes: d.classes ? { ...emptyClasses(), ...d.classes } : null,
    healed: d.healed ?? [],
    openDiscrepancies: d.openDiscrepancies,
    totalDiscrepancies: d.totalDiscrepancies,
    emptyBill: d.emptyBill,
    billHash: d.billHash,
    billBytes: d.billBytes === null ? null : Number(d.billBytes),
    runs: d.runs,
    lastRunAt: iso(d.lastRunAt),
    lastError: d.lastError,
    nextAttemptAt: iso(d.nextAttemptAt),
    closedAt: iso(d.closedAt),
  };
}

export function discrepancyView(d: ReconDiscrepancy): DiscrepancyView {
  return {
    billDate: d.billDate,
    key: d.key,
    kind: d.kind,
    kindLabel: DISCREPANCY_KIND_LABELS[d.kind],
    outTradeNo: d.outTradeNo,
    outRefundNo: d.outRefundNo,
    wechat: d.wechat,
    ledger: d.ledger,
    diffFen: Number(d.diffFen),
    status: d.status,
    resolution: d.resolution,
    note: d.note,
    resolvedBy: d.resolvedByName,
    resolvedAt: iso(d.resolvedAt),
    createdAt: d.createdAt.toISOString(),
  };
}
