import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { DataSource } from 'typeorm';
import { DateTime } from 'luxon';
import { BUSINESS_ZONE, chinaDate, type DiscrepancyView, type ReconDayDetail, type ReconDayView, type ResolveDiscrepancyRequest } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import type { Logger } from '../../platform/logger';
import type { StaffPrincipal } from '../../platform/auth';
import type { PayClient } from '../../wechat/pay';
import type { CompanyService } from '../company';
import type { PaymentsService } from '../payments';
import { ReconDay, ReconDiscrepancy } from './entities';
import { reconciliationWorkbook } from './export';
import { BillFetcher, type FetchedBill } from './fetch';
import { Healer } from './healing';
import { Matcher, type Outcome } from './matching';
import { claimDay, DiscrepancyWriter, releaseDay, resolveDiscrepancy, saveDay } from './store';
import type { RunOptions, RunProgress } from './types';
import { discrepancyView, ReconReader } from './views';
import { reconciliationResult } from '../../platform/metrics';

export type { RunOptions, RunProgress } from './types';
export type { Outcome } from './matching';

export interface ReconciliationOptions {
  ds: DataSource;
  pay: PayClient;
  payments: PaymentsService;
  company: CompanyService;
  log: Logger;
  clock: () => Date;
  /** where raw bills are kept: <billDir>/<YYYY-MM>/<date>-<sha1>.csv (config RECON_BILL_DIR, default data/trade-bills) */
  billDir?: string;
  /** rows looked up per query (default 1000) */
  batchSize?: number;
  /** differences written per transaction (default 2000) */
  writeBatch?: number;
  /** how long after "not ready" / a failure the scheduler tries again */
  retryNotReadyMinutes?: number;
  retryFailedMinutes?: number;
}

/**
 * Daily reconciliation of WeChat Pay trade bills against the ledger: fetch (fetch.ts: hash-checked
 * by the Pay client, the raw file kept), stream it row by row against the ledger (matching.ts,
 * classify.ts), heal what the one crediting path can heal (healing.ts), write everything else as
 * discrepancies for finance in batches (store.ts); reading (views.ts) and the export (export.ts).
 */
export class ReconciliationService {
  private fetcher: BillFetcher;
  private matcher: Matcher;
  private reader: ReconReader;

  constructor(private o: ReconciliationOptions) {
    const billDir = o.billDir ?? path.resolve(process.cwd(), 'data', 'trade-bills');
    this.fetcher = new BillFetcher({
      ds: o.ds,
      pay: o.pay,
      log: o.log,
      billDir,
      retryNotReadyMinutes: o.retryNotReadyMinutes,
      retryFailedMinutes: o.retryFailedMinutes,
    });
    this.reader = new ReconReader({ ds: o.ds, payments: o.payments, company: o.company, clock: o.clock });
    this.matcher = new Matcher({
      payments: o.payments,
      healer: new Healer({ pay: o.pay, payments: o.payments }),
      reader: this.reader,
      batchSize: o.batchSize ?? 1000,
    });
  }

  private get ds() {
    return this.o.ds;
  }

  // ---- running a day ------------------------------------------------------------------------------

  /**
   * Reconcile one China date. Idempotent: a re-run refreshes totals, adds no discrepancy twice
   * and never reopens one finance resolved. Throws RECON_BILL_NOT_READY / RECON_FETCH_FAILED
   * (recorded on the day, nothing else written) or RECON_BUSY.
   */
  async run(billDate: string, opts: RunOptions = {}): Promise<ReconDayDetail> {
    const now = opts.now ?? this.o.clock();
    this.checkDate(billDate, now);
    const runSeq = await claimDay(this.ds, billDate, now);
    try {
      const bill = await this.fetcher.fetch(billDate, now);
      const input: Readable = bill.file ? fs.createReadStream(bill.file, { highWaterMark: 1 << 20 }) : Readable.from([]);
      const outcome = await this.match(billDate, runSeq, now, input, bill, bill.file === null, opts.onProgress);
      this.o.log.info({ billDate, classes: outcome.classes }, 'reconciliation run');
      reconciliationResult(billDate, (await this.ds.getRepository(ReconDay).findOneByOrFail({ billDate })).status, outcome.classes);
    } finally {
      await releaseDay(this.ds, billDate);
    }
    return this.day(billDate);
  }

  /**
   * Reconcile a bill already at hand (a stream in WeChat's format) for `billDate`: the same
   * matching, writing and day totals as `run` without the fetch (the bill file is not kept).
   * For tests and benchmarks; takes the day's lease like a run.
   */
  async reconcile(billDate: string, input: Readable, totalBytes = 0, onProgress?: (p: RunProgress) => void): Promise<Outcome> {
    const now = this.o.clock();
    const runSeq = await claimDay(this.ds, billDate, now);
    try {
      return await this.match(billDate, runSeq, now, input, { file: null, hash: null, bytes: totalBytes }, false, onProgress);
    } finally {
      await releaseDay(this.ds, billDate);
    }
  }

  private async match(
    billDate: string,
    runSeq: number,
    now: Date,
    input: Readable,
    bill: FetchedBill,
    empty: boolean,
    onProgress?: (p: RunProgress) => void,
  ): Promise<Outcome> {
    const writer = new DiscrepancyWriter(this.ds, billDate, runSeq, now, this.o.writeBatch);
    let outcome: Outcome;
    try {
      outcome = await this.matcher.reconcile(billDate, input, writer, bill.bytes, onProgress);
    } finally {
      writer.close();
    }
    await writer.clearNotFound();
    await saveDay(this.ds, billDate, now, outcome, { hash: bill.hash, file: bill.file, bytes: bill.file ? bill.bytes : null, empty });
    return outcome;
  }

  /**
   * The daily job: from 10:00 China time, reconcile yesterday unless it is done; when WeChat's
   * bill is not ready (or the fetch failed) the day records when to try again.
   */
  async runScheduled(
    now: Date = this.o.clock(),
  ): Promise<{ billDate: string | null; outcome: 'too_early' | 'done' | 'waiting' | 'ran' | 'not_ready' | 'failed' | 'busy'; status?: string }> {
    const china = DateTime.fromJSDate(now).setZone(BUSINESS_ZONE);
    if (china.hour < 10) return { billDate: null, outcome: 'too_early' };
    const billDate = china.minus({ days: 1 }).toFormat('yyyy-LL-dd');
    const day = await this.ds.getRepository(ReconDay).findOne({ where: { billDate } });
    if (day && (day.status === 'differences' || day.status === 'balanced')) return { billDate, outcome: 'done', status: day.status };
    if (day?.nextAttemptAt && day.nextAttemptAt > now) return { billDate, outcome: 'waiting', status: day.status };
    try {
      const r = await this.run(billDate, { now });
      return { billDate, outcome: 'ran', status: r.status };
    } catch (err) {
      if (err instanceof AppError) {
        const outcome = err.code === 'RECON_BILL_NOT_READY' ? 'not_ready' : err.code === 'RECON_BUSY' ? 'busy' : 'failed';
        if (outcome === 'failed')
          this.o.log.error({ billDate, err: { message: err.message, details: err.details } }, 'scheduled reconciliation failed; will retry');
        return { billDate, outcome };
      }
      throw err;
    }
  }

  private checkDate(billDate: string, now: Date) {
    const today = chinaDate(now);
    const oldest = DateTime.fromJSDate(now).setZone(BUSINESS_ZONE).minus({ days: 92 }).toFormat('yyyy-LL-dd');
    if (billDate > today || billDate < oldest) throw new AppError('RECON_DATE_INVALID', { billDate, today });
  }

  // ---- discrepancy workflow -----------------------------------------------------------------------

  async resolve(
    staff: StaffPrincipal,
    /** its primary key */
    at: Pick<ReconDiscrepancy, 'billDate' | 'key'>,
    input: ResolveDiscrepancyRequest,
  ): Promise<{ discrepancy: DiscrepancyView; day: ReconDayView }> {
    await resolveDiscrepancy(this.ds, this.o.clock(), staff, at, input);
    const d = await this.ds.getRepository(ReconDiscrepancy).findOneByOrFail({ billDate: at.billDate, key: at.key });
    return { discrepancy: discrepancyView(d), day: await this.reader.dayView(at.billDate) };
  }

  // ---- reading --------------------------------------------------------------------------------------

  /** Every date of the range (default: the last 31 days up to yesterday), newest first, with status. */
  days(q: { from?: string; to?: string; season?: string }, now: Date = this.o.clock()): Promise<ReconDayView[]> {
    return this.reader.days(q, now);
  }

  day(billDate: string): Promise<ReconDayDetail> {
    return this.reader.day(billDate);
  }

  duplicatePairs(billDate: string) {
    return this.reader.duplicatePairs(billDate);
  }

  /** One day or a range as an XLSX workbook for finance (streamed; see export.ts). */
  async exportXlsx(from: string, to: string): Promise<Readable> {
    if (from > to) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'query.from', message: '开始日期不能晚于结束日期' }] });
    const days = (await this.reader.days({ from, to })).reverse();
    return reconciliationWorkbook(days, this.reader, this.o.log);
  }

  /** The raw bill as kept (for download), or null. */
  rawBill(billDate: string): Promise<{ file: string; bytes: number } | null> {
    return this.fetcher.rawBill(billDate);
  }
}
