import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { In, type DataSource } from 'typeorm';
import { DateTime } from 'luxon';
import {
  BUSINESS_ZONE,
  chinaDate,
  dateInYear,
  isoDate,
  seasonCode,
  DISCREPANCY_KIND_LABELS,
  DUPLICATE_PAIR_STATE_LABELS,
  type DuplicatePaymentPair,
  RECON_DAY_STATUS_LABELS,
  RESOLUTION_TYPE_LABELS,
  type BillSummaryTotals,
  type DiscrepancyKind,
  type DiscrepancyView,
  type HealedItem,
  type ReconClassCounts,
  type ReconDayDetail,
  type ReconDayView,
  type ReconTotals,
  type ResolveDiscrepancyRequest,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import type { Logger } from '../../platform/logger';
import type { StaffPrincipal } from '../../platform/auth';
import { PayApiError, type PayClient } from '../../wechat/pay';
import type { CompanyService } from '../company';
import type { LedgerEntry, LedgerHit, PaymentOrder, PaymentsService } from '../payments';
import { microToFen, readTradeBillBatches, type BillRow, type BillSummary } from './csv';
import { reconciliationResult } from '../../platform/metrics';
import { ReconDay, ReconDiscrepancy } from './entities';

export interface ReconciliationOptions {
  ds: DataSource;
  pay: PayClient;
  payments: PaymentsService;
  company: CompanyService;
  log: Logger;
  clock: () => Date;
  /** where raw bills are kept: <billDir>/<YYYY-MM>/<date>-<sha1>.csv (default $RECON_BILL_DIR or data/trade-bills) */
  billDir?: string;
  /** rows looked up per query (default 1000) */
  batchSize?: number;
  /** how long after "not ready" / a failure the scheduler tries again */
  retryNotReadyMinutes?: number;
  retryFailedMinutes?: number;
}

export interface RunProgress {
  bytesRead: number;
  totalBytes: number;
  rows: number;
}

export interface RunOptions {
  now?: Date;
  onProgress?: (p: RunProgress) => void;
}

interface Draft {
  key: string;
  kind: DiscrepancyKind;
  outTradeNo: string | null;
  outRefundNo: string | null;
  wechat: Record<string, unknown> | null;
  ledger: Record<string, unknown> | null;
  diffFen: number;
}

interface Outcome {
  wechat: ReconTotals;
  summary: BillSummaryTotals | null;
  summaryMatches: boolean | null;
  ledger: ReconTotals;
  classes: ReconClassCounts;
  healed: HealedItem[];
  drafts: Map<string, Draft>;
}

const emptyTotals = (): ReconTotals => ({ rowCount: 0, paymentCount: 0, paymentFen: 0, refundCount: 0, refundFen: 0, feeFen: 0, netFen: 0 });
const emptyClasses = (): ReconClassCounts => ({
  matched: 0,
  healed: 0,
  inTransit: 0,
  surplus: 0,
  shortage: 0,
  amount_mismatch: 0,
  refund_mismatch: 0,
  duplicate: 0,
  totals_mismatch: 0,
  double_payment: 0,
  duplicatePaid: 0,
});
const refOf = (r: BillRow) => (r.kind === 'payment' ? `pay:${r.outTradeNo}` : `refund:${r.outRefundNo}`);
/** ledger entries read per page in the 短款 pass */
const LEDGER_PAGE = 20_000;
/** bill batches whose ledger lookup may run ahead of classification (memory: LOOKAHEAD × batch rows; 3 was no faster and ~40 MB more RSS at 1M rows) */
const LOOKAHEAD = 2;

/**
 * The ledger entries a bill matched: one bit per id over the day's id range [lo, hi] (1M entries
 * = 125 KB), a small set for entries of other days (a payment credited just after midnight).
 */
class LedgerMarks {
  private bits: Uint8Array;
  private extra = new Set<number>();
  constructor(
    private lo: number,
    hi: number,
  ) {
    this.bits = new Uint8Array(hi >= lo ? ((hi - lo) >> 3) + 1 : 0);
  }
  /** mark `id`; true when it was marked already */
  mark(id: number): boolean {
    const k = id - this.lo;
    if (k >= 0 && k >> 3 < this.bits.length) {
      const bit = 1 << (k & 7);
      const was = (this.bits[k >> 3]! & bit) !== 0;
      this.bits[k >> 3]! |= bit;
      return was;
    }
    if (this.extra.has(id)) return true;
    this.extra.add(id);
    return false;
  }
  has(id: number): boolean {
    const k = id - this.lo;
    if (k >= 0 && k >> 3 < this.bits.length) return (this.bits[k >> 3]! & (1 << (k & 7))) !== 0;
    return this.extra.has(id);
  }
}

interface MatchState {
  marks: LedgerMarks;
  /** refs of bill rows without a ledger entry (discrepancies, heals, refunds in transit): repeats are duplicates */
  unmatched: Set<string>;
  add: (d: Draft) => void;
  classes: ReconClassCounts;
  healed: HealedItem[];
}
const iso = (d: Date | null) => (d ? d.toISOString() : null);
const LOCK_MS = 15 * 60_000;

/** The bill row as finance sees it in a discrepancy. */
function wechatSide(r: BillRow): Record<string, unknown> {
  return {
    line: r.line,
    tradeTime: r.tradeTime,
    transactionId: r.transactionId,
    outTradeNo: r.outTradeNo,
    tradeState: r.tradeState,
    amountFen: r.kind === 'payment' ? r.orderFen || r.settleFen : r.refundFen,
    ...(r.kind === 'refund' ? { refundId: r.refundId, outRefundNo: r.outRefundNo, refundStatus: r.refundStatus } : {}),
    feeFen: microToFen(r.feeMicro),
  };
}

function ledgerSide(e: LedgerEntry): Record<string, unknown> {
  return { ref: e.ref, kind: e.kind, amountFen: e.amountFen, orderId: e.orderId, billId: e.billId, transactionId: e.transactionId, at: e.at.toISOString() };
}

/**
 * Daily reconciliation of WeChat Pay trade bills against the ledger: fetch (hash-checked by the
 * Pay client), keep the raw file, stream it row by row against the ledger in batches, heal what
 * the one crediting path can heal, record everything else as discrepancies for finance.
 */
export class ReconciliationService {
  private batchSize: number;
  private billDir: string;

  constructor(private o: ReconciliationOptions) {
    this.batchSize = o.batchSize ?? 1000;
    this.billDir = o.billDir ?? process.env.RECON_BILL_DIR ?? path.resolve(process.cwd(), 'data', 'trade-bills');
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
    await this.claim(billDate, now);
    try {
      // the bill streams from WeChat to a temp file (hashed on the way), then is read back line by line
      let file: string | null = null;
      let hashValue: string | null = null;
      let bytes = 0;
      const dir = path.join(this.billDir, billDate.slice(0, 7));
      await fs.promises.mkdir(dir, { recursive: true });
      const tmp = path.join(dir, `${billDate}.${process.pid}.${Date.now()}.download`);
      try {
        ({ hashValue, bytes } = await this.o.pay.downloadTradeBill({ billDate, toFile: tmp }));
        file = await this.keepRawBill(billDate, hashValue, tmp);
      } catch (err) {
        await fs.promises.rm(tmp, { force: true });
        if (!(err instanceof PayApiError && err.code === 'NO_STATEMENT_EXIST')) {
          await this.recordFetchFailure(billDate, now, err);
          throw err instanceof PayApiError && err.code === 'STATEMENT_CREATING'
            ? new AppError('RECON_BILL_NOT_READY', { billDate })
            : new AppError('RECON_FETCH_FAILED', { billDate, reason: err instanceof PayApiError ? err.code : 'ERROR', message: (err as Error)?.message });
        }
      }
      const input: Readable = file ? fs.createReadStream(file, { highWaterMark: 1 << 20 }) : Readable.from([]);
      const outcome = await this.reconcile(billDate, input, bytes, opts.onProgress);
      await this.save(billDate, now, outcome, { hash: hashValue, file, bytes: file ? bytes : null, empty: file === null });
      this.o.log.info({ billDate, classes: outcome.classes }, 'reconciliation run');
      reconciliationResult(billDate, (await this.ds.getRepository(ReconDay).findOneByOrFail({ billDate })).status, outcome.classes);
    } finally {
      await this.ds.getRepository(ReconDay).update({ billDate }, { lockedUntil: null });
    }
    return this.day(billDate);
  }

  /**
   * The daily job: from 10:00 China time, reconcile yesterday unless it is done; when WeChat's
   * bill is not ready (or the fetch failed) the day records when to try again.
   */
  async runScheduled(now: Date = this.o.clock()): Promise<{ billDate: string | null; outcome: 'too_early' | 'done' | 'waiting' | 'ran' | 'not_ready' | 'failed' | 'busy'; status?: string }> {
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
        if (outcome === 'failed') this.o.log.error({ billDate, err: { message: err.message, details: err.details } }, 'scheduled reconciliation failed; will retry');
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

  /** Create the day if new and take its lease; two runs of one day never interleave. */
  private async claim(billDate: string, now: Date) {
    const repo = this.ds.getRepository(ReconDay);
    if (!(await repo.exists({ where: { billDate } }))) {
      try {
        await repo.insert({ billDate, status: 'none', healed: [], runs: 0, emptyBill: false });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    const res = await repo
      .createQueryBuilder()
      .update(ReconDay)
      .set({ lockedUntil: new Date(now.getTime() + LOCK_MS) })
      .where('billDate = :billDate', { billDate })
      .andWhere('(lockedUntil IS NULL OR lockedUntil < :now)', { now })
      .execute();
    if (!res.affected) throw new AppError('RECON_BUSY', { billDate });
  }

  private async recordFetchFailure(billDate: string, now: Date, err: unknown) {
    const notReady = err instanceof PayApiError && err.code === 'STATEMENT_CREATING';
    const repo = this.ds.getRepository(ReconDay);
    const day = await repo.findOneByOrFail({ billDate });
    const reconciled = day.status === 'differences' || day.status === 'balanced';
    const minutes = notReady ? (this.o.retryNotReadyMinutes ?? 30) : (this.o.retryFailedMinutes ?? 15);
    const message = err instanceof PayApiError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
    await repo.update(
      { billDate },
      {
        // an earlier complete report stays as it is: a failed re-run writes nothing but the error
        ...(reconciled ? {} : { status: notReady ? 'not_ready' : 'failed' }),
        lastError: message.slice(0, 500),
        nextAttemptAt: new Date(now.getTime() + minutes * 60_000),
      },
    );
    if (!notReady) this.o.log.warn({ billDate, err: message }, 'trade bill fetch failed');
  }

  /** Keep the downloaded bill as it came (hash-checked), named by date and SHA1: the temp file is renamed into place. */
  private async keepRawBill(billDate: string, hash: string, tmp: string): Promise<string> {
    const file = path.join(this.billDir, billDate.slice(0, 7), `${billDate}-${hash.toLowerCase()}.csv`);
    if (fs.existsSync(file)) await fs.promises.rm(tmp, { force: true });
    else await fs.promises.rename(tmp, file);
    return file;
  }

  /** [start, end) of a China date, as UTC instants */
  private dayRange(billDate: string): [Date, Date] {
    const start = DateTime.fromISO(billDate, { zone: BUSINESS_ZONE }).startOf('day');
    return [start.toJSDate(), start.plus({ days: 1 }).toJSDate()];
  }

  /**
   * Stream the bill against the ledger; heal what can heal; collect the rest. Writes nothing but
   * heals. Memory does not grow with the bill: rows come in batches (the next batch's ledger
   * lookup runs while this one is classified), the ledger entries the bill matched are one bit
   * each in a bitmap over the day's ledger ids, and 短款 are the day's entries left unmarked —
   * read back as ids in pages. Only what is not matched (discrepancies, healed, in transit) is kept.
   */
  async reconcile(billDate: string, input: Readable, totalBytes = 0, onProgress?: (p: RunProgress) => void): Promise<Outcome> {
    const wechat = emptyTotals();
    let feeMicro = 0;
    let summary: BillSummary | null = null;
    const classes: ReconClassCounts = { ...emptyClasses() };
    const healed: HealedItem[] = [];
    const drafts = new Map<string, Draft>();
    const add = (d: Draft) => {
      if (!drafts.has(d.key)) drafts.set(d.key, d);
    };
    const [start, end] = this.dayRange(billDate);
    const range = await this.o.payments.ledgerQueries.idRange(start, end);
    const marks = new LedgerMarks(range.lo, range.hi);
    const state: MatchState = { marks, unmatched: new Set(), add, classes, healed };
    const progress = () => onProgress?.({ bytesRead: (input as any).bytesRead ?? 0, totalBytes, rows: wechat.rowCount });

    let processing: Promise<void> = Promise.resolve();
    const queued: Promise<void>[] = [];
    for await (const b of readTradeBillBatches(input, this.batchSize)) {
      if (b.summary) summary = b.summary;
      if (!b.rows.length) continue;
      for (const r of b.rows) {
        wechat.rowCount++;
        feeMicro += r.feeMicro;
        if (r.kind === 'payment') {
          wechat.paymentCount++;
          wechat.paymentFen += r.settleFen;
        } else {
          wechat.refundCount++;
          wechat.refundFen += r.refundFen;
        }
      }
      // look this batch up now (up to LOOKAHEAD lookups in flight); classify batches in bill order
      const rows = b.rows;
      const hits = this.lookup(rows);
      hits.catch(() => undefined);
      processing = processing.then(async () => {
        await this.matchBatch(rows, await hits, state);
        progress();
      });
      processing.catch(() => undefined);
      queued.push(processing);
      if (queued.length > LOOKAHEAD) await queued.shift();
    }
    await processing;
    wechat.feeFen = microToFen(feeMicro);
    wechat.netFen = wechat.paymentFen - wechat.refundFen - wechat.feeFen;

    // the bill against its own summary (a truncated file has none)
    let summaryTotals: BillSummaryTotals | null = null;
    let summaryMatches: boolean | null = null;
    if (summary) {
      summaryTotals = { rowCount: summary.rowCount, paymentFen: summary.settleFen, refundFen: summary.refundFen, feeFen: microToFen(summary.feeMicro), orderFen: summary.orderFen };
      summaryMatches =
        summary.rowCount === wechat.rowCount && summary.settleFen === wechat.paymentFen && summary.refundFen === wechat.refundFen && summary.feeMicro === feeMicro;
    } else if (wechat.rowCount > 0) {
      summaryMatches = false;
    }
    if (summaryMatches === false) {
      add({
        key: 'totals',
        kind: 'totals_mismatch',
        outTradeNo: null,
        outRefundNo: null,
        wechat: { rows: wechat, feeMicro },
        ledger: summary ? { summary: summaryTotals, feeMicro: summary.feeMicro } : { summary: null, problem: '账单缺少汇总行（文件可能不完整）' },
        diffFen: summary ? wechat.paymentFen - wechat.refundFen - (summary.settleFen - summary.refundFen) : 0,
      });
    }

    // the ledger's side of the day, ids and amounts only: what the bill did not mark is 短款
    const ledger = emptyTotals();
    const shortIds: number[] = [];
    let lastId = 0;
    for (;;) {
      const page = await this.o.payments.ledgerQueries.page(start, end, lastId, LEDGER_PAGE);
      if (!page.length) break;
      for (const e of page) {
        const id = Number(e.id);
        const amountFen = Number(e.amountFen);
        ledger.rowCount++;
        if (e.kind === 'payment') {
          ledger.paymentCount++;
          ledger.paymentFen += amountFen;
        } else {
          ledger.refundCount++;
          ledger.refundFen += -amountFen;
        }
        if (!marks.has(id)) shortIds.push(id);
      }
      lastId = Number(page[page.length - 1]!.id);
    }
    for (let i = 0; i < shortIds.length; i += 500) {
      for (const e of await this.o.payments.ledgerQueries.entriesByIds(shortIds.slice(i, i + 500))) {
        // a ledger entry whose bill row had no ledger match at lookup time (healed meanwhile) is not 短款
        if (state.unmatched.has(e.ref)) continue;
        add({
          key: e.ref,
          kind: 'shortage',
          outTradeNo: e.outTradeNo,
          outRefundNo: e.kind === 'refund' ? e.ref.slice('refund:'.length) : null,
          wechat: null,
          ledger: ledgerSide(e),
          diffFen: -e.amountFen,
        });
      }
    }
    ledger.netFen = ledger.paymentFen - ledger.refundFen;

    // bills paid twice that day: a pair with the refund that cancels the second payment; for a human only while not refunded
    const pairs = await this.duplicatePairs(billDate);
    classes.duplicatePaid = pairs.length;
    for (const p of pairs) {
      if (p.state !== 'open') continue;
      add({
        key: `duppay:${p.duplicate.outTradeNo}`,
        kind: 'double_payment',
        outTradeNo: p.duplicate.outTradeNo,
        outRefundNo: p.refund?.outRefundNo ?? null,
        wechat: { duplicate: p.duplicate, kept: p.kept },
        ledger: { billId: p.billId, refund: p.refund },
        diffFen: p.outstandingFen,
      });
    }
    for (const d of drafts.values()) classes[d.kind]++;
    progress();
    return { wechat, summary: summaryTotals, summaryMatches, ledger, classes, healed, drafts };
  }

  /**
   * Bills paid twice whose second payment was made on `billDate` (China time), with the payment
   * that settled the bill and the automatic refund. Read live, so a refund confirmed later shows.
   * The system refunds every duplicate it credits, so the (small) refund table leads the search.
   */
  async duplicatePairs(billDate: string): Promise<DuplicatePaymentPair[]> {
    const [start, end] = this.dayRange(billDate);
    const { refunds, duplicates: dupOrders, kept } = await this.o.payments.ledgerQueries.duplicates(start, end);
    const pay = (o: PaymentOrder) => ({ orderId: o.id, outTradeNo: o.outTradeNo, transactionId: o.transactionId, amountFen: Number(o.amountFen), paidAt: iso(o.paidAt) });
    return dupOrders.map((o) => {
      const mine = refunds.filter((r) => r.orderId === o.id);
      const refund = mine.find((r) => r.status === 'success') ?? mine.at(-1) ?? null;
      const refundedFen = mine.filter((r) => r.status === 'success').reduce((n, r) => n + Number(r.amountFen), 0);
      const outstandingFen = Number(o.amountFen) - refundedFen;
      const state = outstandingFen <= 0 ? 'refunded' : mine.some((r) => r.status === 'requested' || r.status === 'processing') ? 'refunding' : 'open';
      const k = kept.find((x) => x.billId === o.billId && x.id !== o.id);
      return {
        billId: o.billId,
        accountId: o.accountId,
        kept: k ? pay(k) : null,
        duplicate: pay(o),
        refund: refund ? { outRefundNo: refund.outRefundNo, amountFen: Number(refund.amountFen), status: refund.status, succeededAt: iso(refund.succeededAt) } : null,
        outstandingFen: Math.max(0, outstandingFen),
        state,
        stateLabel: DUPLICATE_PAIR_STATE_LABELS[state],
      };
    });
  }

  /** The ledger entries of a batch's refs: one raw query per 1000 refs, four columns, no entity hydration. */
  private async lookup(rows: BillRow[]): Promise<Map<string, LedgerHit>> {
    return this.o.payments.ledgerQueries.byRefs([...new Set(rows.map(refOf))]);
  }

  private async fullEntry(id: number): Promise<Record<string, unknown>> {
    const e = await this.o.payments.ledgerQueries.entry(id);
    return e ? ledgerSide(e) : { id };
  }

  /** After a heal, the new ledger entry counts as matched by the bill (not 短款, and a repeat row is a duplicate). */
  private async markHealed(ref: string, s: MatchState) {
    const id = await this.o.payments.ledgerQueries.idOfRef(ref);
    if (id !== null) s.marks.mark(id);
  }

  /** One batch of bill rows with their ledger entries (looked up already); orders/refunds for the ones missing. */
  private async matchBatch(rows: BillRow[], entries: Map<string, LedgerHit>, s: MatchState) {
    const fresh: BillRow[] = [];
    for (const r of rows) {
      const ref = refOf(r);
      const hit = entries.get(ref);
      const repeated = hit ? s.marks.mark(hit.id) : s.unmatched.has(ref);
      if (repeated) {
        s.add({ key: `dup:${ref}`, kind: 'duplicate', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo || null, wechat: wechatSide(r), ledger: null, diffFen: 0 });
        continue;
      }
      if (!hit) s.unmatched.add(ref);
      fresh.push(r);
    }
    if (!fresh.length) return;
    const missingPay = fresh.filter((r) => r.kind === 'payment' && !entries.has(refOf(r))).map((r) => r.outTradeNo);
    const missingRefund = fresh.filter((r) => r.kind === 'refund' && !entries.has(refOf(r))).map((r) => r.outRefundNo);
    const orders = new Map(
      (await this.o.payments.ledgerQueries.ordersByOutTradeNos(missingPay)).map((o) => [o.outTradeNo, o]),
    );
    const refunds = new Map(
      (await this.o.payments.ledgerQueries.refundsByOutRefundNos(missingRefund)).map((x) => [x.outRefundNo, x]),
    );

    for (const r of fresh) {
      const ref = refOf(r);
      const entry = entries.get(ref);
      if (r.kind === 'payment') {
        const wxFen = r.orderFen || r.settleFen;
        if (entry) {
          if (entry.amountFen === wxFen && (!entry.transactionId || !r.transactionId || entry.transactionId === r.transactionId)) s.classes.matched++;
          else s.add({ key: ref, kind: 'amount_mismatch', outTradeNo: r.outTradeNo, outRefundNo: null, wechat: wechatSide(r), ledger: await this.fullEntry(entry.id), diffFen: wxFen - entry.amountFen });
          continue;
        }
        const order = orders.get(r.outTradeNo);
        const orderSide = order
          ? { orderId: order.id, status: order.status, amountFen: order.amountFen, billId: order.billId, accountId: order.accountId, transactionId: order.transactionId }
          : null;
        if (order?.status === 'pending') {
          // 长款 of a lost notification: ask WeChat, credit through the one exactly-once path
          let result: string;
          try {
            result = await this.o.payments.credit(await this.o.pay.queryByOutTradeNo(r.outTradeNo), 'recon');
          } catch (err) {
            result = `error: ${(err as Error)?.message ?? err}`;
          }
          if (result === 'credited' || result === 'duplicate' || result === 'already') {
            await this.markHealed(ref, s);
            s.classes.healed++;
            s.healed.push({ ref, outTradeNo: r.outTradeNo, amountFen: wxFen, result });
            continue;
          }
          if (result === 'flagged') {
            s.add({ key: ref, kind: 'amount_mismatch', outTradeNo: r.outTradeNo, outRefundNo: null, wechat: wechatSide(r), ledger: { order: orderSide, credit: result }, diffFen: wxFen - order.amountFen });
            continue;
          }
          s.add({ key: ref, kind: 'surplus', outTradeNo: r.outTradeNo, outRefundNo: null, wechat: wechatSide(r), ledger: { order: orderSide, credit: result }, diffFen: wxFen });
          continue;
        }
        // unknown order, or one we closed: only a human can tell
        s.add({ key: ref, kind: 'surplus', outTradeNo: r.outTradeNo, outRefundNo: null, wechat: wechatSide(r), ledger: orderSide ? { order: orderSide } : null, diffFen: wxFen });
        continue;
      }

      // refund rows
      const processing = r.refundStatus !== 'SUCCESS';
      if (entry) {
        if (-entry.amountFen === r.refundFen) {
          if (processing) s.classes.inTransit++;
          else s.classes.matched++;
        } else {
          s.add({ key: ref, kind: 'refund_mismatch', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo, wechat: wechatSide(r), ledger: await this.fullEntry(entry.id), diffFen: -r.refundFen - entry.amountFen });
        }
        continue;
      }
      const refund = refunds.get(r.outRefundNo);
      const refundSide = refund ? { refundId: refund.id, status: refund.status, amountFen: refund.amountFen, orderId: refund.orderId, kind: refund.kind } : null;
      if (refund && refund.amountFen === r.refundFen && refund.status !== 'success') {
        if (processing) {
          s.classes.inTransit++;
          continue;
        }
        // the refund's notification never came: ask WeChat and apply it like a notification
        let state: string;
        try {
          const q = await this.o.pay.queryRefund(r.outRefundNo);
          state = await this.o.payments.applyRefundResult({ out_refund_no: q.out_refund_no, status: q.status, refund_id: q.refund_id, success_time: q.success_time });
        } catch (err) {
          state = `error: ${(err as Error)?.message ?? err}`;
        }
        if (state === 'success') {
          await this.markHealed(ref, s);
          s.classes.healed++;
          s.healed.push({ ref, outTradeNo: r.outTradeNo, amountFen: -r.refundFen, result: 'refund_success' });
          continue;
        }
        s.add({ key: ref, kind: 'refund_mismatch', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo, wechat: wechatSide(r), ledger: { refund: refundSide, query: state }, diffFen: -r.refundFen });
        continue;
      }
      s.add({ key: ref, kind: 'refund_mismatch', outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo, wechat: wechatSide(r), ledger: refundSide ? { refund: refundSide } : null, diffFen: -r.refundFen });
    }
  }

  /** Write a run's result in one transaction: discrepancies (insert-once), then the day. */
  private async save(billDate: string, now: Date, out: Outcome, bill: { hash: string | null; file: string | null; bytes: number | null; empty: boolean }) {
    await withTx(this.ds, async (em) => {
      const day = await forUpdate(em.createQueryBuilder(ReconDay, 'd').where('d.billDate = :billDate', { billDate })).getOneOrFail();
      const existing = new Map((await em.find(ReconDiscrepancy, { where: { billDate } })).map((d) => [d.key, d]));
      const inserts: Partial<ReconDiscrepancy>[] = [];
      for (const d of out.drafts.values()) {
        const old = existing.get(d.key);
        if (!old) {
          inserts.push({ billDate, ...d, status: 'open' });
        } else if (old.status === 'open' && (old.kind !== d.kind || old.diffFen !== d.diffFen || JSON.stringify(old.wechat) !== JSON.stringify(d.wechat) || JSON.stringify(old.ledger) !== JSON.stringify(d.ledger))) {
          await em.update(ReconDiscrepancy, old.id, { kind: d.kind, wechat: d.wechat as any, ledger: d.ledger as any, diffFen: d.diffFen });
        }
      }
      for (let i = 0; i < inserts.length; i += 500) await em.insert(ReconDiscrepancy, inserts.slice(i, i + 500) as any);
      // gone since the last run (healed meanwhile, a late notification): resolved by the system, kept
      for (const old of existing.values()) {
        if (old.status === 'open' && !out.drafts.has(old.key)) {
          await em.update(ReconDiscrepancy, old.id, {
            status: 'resolved',
            resolution: 'cleared_on_rerun',
            note: '重新对账时该差异已不存在',
            resolvedBy: null,
            resolvedByName: '系统',
            resolvedAt: now,
          });
        }
      }
      const open = await em.count(ReconDiscrepancy, { where: { billDate, status: 'open' } });
      const healed = [...day.healed];
      for (const h of out.healed) if (!healed.some((x) => x.ref === h.ref)) healed.push(h);
      const status = open ? 'differences' : 'balanced';
      await em.update(ReconDay, day.id, {
        status,
        wechat: out.wechat,
        summary: out.summary,
        summaryMatches: out.summaryMatches,
        ledger: out.ledger,
        classes: out.classes,
        healed,
        emptyBill: bill.empty,
        billHash: bill.hash,
        billFile: bill.file,
        billBytes: bill.bytes,
        runs: day.runs + 1,
        lastRunAt: now,
        lastError: null,
        nextAttemptAt: null,
        closedAt: status === 'balanced' ? (day.closedAt ?? now) : null,
      });
    });
  }

  // ---- discrepancy workflow -----------------------------------------------------------------------

  async resolve(staff: StaffPrincipal, id: number, input: ResolveDiscrepancyRequest): Promise<{ discrepancy: DiscrepancyView; day: ReconDayView }> {
    const now = this.o.clock();
    const billDate = await withTx(this.ds, async (em) => {
      const d = await forUpdate(em.createQueryBuilder(ReconDiscrepancy, 'd').where('d.id = :id', { id })).getOne();
      if (!d) throw new AppError('DISCREPANCY_NOT_FOUND');
      if (d.status === 'resolved') throw new AppError('DISCREPANCY_ALREADY_RESOLVED', { resolution: d.resolution, resolvedBy: d.resolvedByName });
      // the day row is locked too: the last resolution closes it exactly once
      const day = await forUpdate(em.createQueryBuilder(ReconDay, 'x').where('x.billDate = :b', { b: d.billDate })).getOneOrFail();
      await em.update(ReconDiscrepancy, d.id, {
        status: 'resolved',
        resolution: input.resolution as any,
        note: input.note.trim(),
        resolvedBy: staff.staffId,
        resolvedByName: staff.name,
        resolvedAt: now,
      });
      const open = await em.count(ReconDiscrepancy, { where: { billDate: d.billDate, status: 'open' } });
      if (!open && day.status === 'differences') await em.update(ReconDay, day.id, { status: 'balanced', closedAt: now });
      return d.billDate;
    });
    const d = await this.ds.getRepository(ReconDiscrepancy).findOneByOrFail({ id });
    return { discrepancy: discrepancyView(d), day: await this.dayView(billDate) };
  }

  // ---- reading --------------------------------------------------------------------------------------

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
    for (const [field, v] of [['query.from', from], ['query.to', to]] as const) {
      if (!isoDate().safeParse(v).success) throw invalid(field, '日期不存在或不在有效范围内');
    }
    if (from > to) throw invalid('query.from', '开始日期不能晚于结束日期');
    const end = DateTime.fromISO(to, { zone: 'utc' });
    const span = Math.round(end.diff(DateTime.fromISO(from, { zone: 'utc' }), 'days').days);
    if (!(span >= 0 && span <= 366)) throw invalid('query.from', '日期范围不能超过一年');
    const rows = await this.ds
      .getRepository(ReconDay)
      .createQueryBuilder('d')
      .where('d.billDate >= :from AND d.billDate <= :to', { from, to })
      .getMany();
    const byDate = new Map(rows.map((d) => [d.billDate, d]));
    const counts = await this.openCounts(rows.map((r) => r.billDate));
    const out: ReconDayView[] = [];
    // a counted loop over at most 367 days: ends whatever the dates are
    for (let i = 0; i <= span; i++) {
      const date = end.minus({ days: i }).toFormat('yyyy-LL-dd');
      const row = byDate.get(date);
      out.push(row ? dayView(row, counts.get(date) ?? { open: 0, total: 0 }) : noneView(date));
    }
    return out;
  }

  async day(billDate: string): Promise<ReconDayDetail> {
    const row = await this.ds.getRepository(ReconDay).findOne({ where: { billDate } });
    if (!row) return { ...noneView(billDate), discrepancies: [], duplicatePayments: [] };
    const list = await this.ds.getRepository(ReconDiscrepancy).find({ where: { billDate }, order: { id: 'ASC' } });
    const open = list.filter((d) => d.status === 'open').length;
    return {
      ...dayView(row, { open, total: list.length }),
      // open first, then by kind and key
      discrepancies: list
        .sort((a, b) => (a.status === b.status ? 0 : a.status === 'open' ? -1 : 1) || a.id - b.id)
        .map(discrepancyView),
      duplicatePayments: await this.duplicatePairs(billDate),
    };
  }

  private async dayView(billDate: string): Promise<ReconDayView> {
    const row = await this.ds.getRepository(ReconDay).findOneByOrFail({ billDate });
    return dayView(row, (await this.openCounts([billDate])).get(billDate) ?? { open: 0, total: 0 });
  }

  private async openCounts(dates: string[]): Promise<Map<string, { open: number; total: number }>> {
    const out = new Map<string, { open: number; total: number }>();
    if (!dates.length) return out;
    const rows: { billDate: string; status: string; n: string | number }[] = await this.ds
      .getRepository(ReconDiscrepancy)
      .createQueryBuilder('d')
      .select('d.billDate', 'billDate')
      .addSelect('d.status', 'status')
      .addSelect('COUNT(*)', 'n')
      .where({ billDate: In(dates) })
      .groupBy('d.billDate')
      .addGroupBy('d.status')
      .getRawMany();
    for (const r of rows) {
      const c = out.get(r.billDate) ?? { open: 0, total: 0 };
      c.total += Number(r.n);
      if (r.status === 'open') c.open += Number(r.n);
      out.set(r.billDate, c);
    }
    return out;
  }

  /**
   * One day or a range as an XLSX workbook for finance: 对账汇总 (a row per date), 差异明细 (every
   * difference with both sides and its resolution), 重复支付 (pairs with their refunds), 自愈记录.
   */
  async exportXlsx(from: string, to: string): Promise<Buffer> {
    if (from > to) throw new AppError('VALIDATION_FAILED', { fields: [{ field: 'query.from', message: '开始日期不能晚于结束日期' }] });
    const days = (await this.days({ from, to })).reverse();
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    wb.creator = '供热管家';
    wb.created = this.o.clock();
    const yuan = (fen: number | null | undefined) => (fen === null || fen === undefined ? null : fen / 100);
    const money = { numFmt: '#,##0.00' };
    const sheet = (name: string, columns: { header: string; key: string; width: number; money?: boolean }[]) => {
      const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
      ws.columns = columns.map((c) => ({ header: c.header, key: c.key, width: c.width, style: c.money ? money : {} }));
      ws.getRow(1).font = { bold: true };
      return ws;
    };
    const summary = sheet('对账汇总', [
      { header: '账单日期', key: 'date', width: 12 },
      { header: '状态', key: 'status', width: 8 },
      { header: '微信收款笔数', key: 'wxPayN', width: 12 },
      { header: '微信收款金额', key: 'wxPay', width: 14, money: true },
      { header: '微信退款笔数', key: 'wxRefN', width: 12 },
      { header: '微信退款金额', key: 'wxRef', width: 14, money: true },
      { header: '手续费', key: 'fee', width: 10, money: true },
      { header: '结算净额', key: 'net', width: 14, money: true },
      { header: '台账收款笔数', key: 'lgPayN', width: 12 },
      { header: '台账收款金额', key: 'lgPay', width: 14, money: true },
      { header: '台账退款金额', key: 'lgRef', width: 14, money: true },
      { header: '账单汇总核对', key: 'sum', width: 12 },
      { header: '一致', key: 'matched', width: 8 },
      { header: '自愈', key: 'healed', width: 8 },
      { header: '在途退款', key: 'inTransit', width: 10 },
      { header: '未处理差异', key: 'open', width: 10 },
      { header: '差异总数', key: 'total', width: 10 },
      { header: '重复支付', key: 'dupPaid', width: 10 },
      { header: '最近对账', key: 'lastRunAt', width: 20 },
      { header: '最近错误', key: 'lastError', width: 30 },
    ]);
    const diffs = sheet('差异明细', [
      { header: '账单日期', key: 'date', width: 12 },
      { header: '类型', key: 'kind', width: 14 },
      { header: '商户订单号', key: 'outTradeNo', width: 28 },
      { header: '商户退款单号', key: 'outRefundNo', width: 28 },
      { header: '差额（微信-台账）', key: 'diff', width: 16, money: true },
      { header: '状态', key: 'status', width: 8 },
      { header: '处理方式', key: 'resolution', width: 16 },
      { header: '处理说明', key: 'note', width: 30 },
      { header: '处理人', key: 'by', width: 10 },
      { header: '处理时间', key: 'at', width: 20 },
      { header: '微信侧', key: 'wechat', width: 60 },
      { header: '台账侧', key: 'ledger', width: 60 },
    ]);
    const pairs = sheet('重复支付', [
      { header: '账单日期', key: 'date', width: 12 },
      { header: '账单ID', key: 'billId', width: 10 },
      { header: '入账的支付', key: 'kept', width: 28 },
      { header: '入账金额', key: 'keptFen', width: 12, money: true },
      { header: '重复的支付', key: 'dup', width: 28 },
      { header: '微信支付单号', key: 'dupTx', width: 32 },
      { header: '重复金额', key: 'dupFen', width: 12, money: true },
      { header: '退款单号', key: 'refundNo', width: 30 },
      { header: '退款金额', key: 'refundFen', width: 12, money: true },
      { header: '退款状态', key: 'refundStatus', width: 10 },
      { header: '未退回', key: 'outstanding', width: 12, money: true },
      { header: '状态', key: 'state', width: 12 },
    ]);
    const healedWs = sheet('自愈记录', [
      { header: '账单日期', key: 'date', width: 12 },
      { header: '记录', key: 'ref', width: 34 },
      { header: '商户订单号', key: 'outTradeNo', width: 28 },
      { header: '金额', key: 'amount', width: 12, money: true },
      { header: '结果', key: 'result', width: 14 },
    ]);
    const china = (s: string | null) => (s ? DateTime.fromISO(s).setZone(BUSINESS_ZONE).toFormat('yyyy-LL-dd HH:mm:ss') : null);
    for (const d of days) {
      summary.addRow({
        date: d.billDate,
        status: d.statusLabel,
        wxPayN: d.wechat?.paymentCount ?? null,
        wxPay: yuan(d.wechat?.paymentFen),
        wxRefN: d.wechat?.refundCount ?? null,
        wxRef: yuan(d.wechat?.refundFen),
        fee: yuan(d.wechat?.feeFen),
        net: yuan(d.wechat?.netFen),
        lgPayN: d.ledger?.paymentCount ?? null,
        lgPay: yuan(d.ledger?.paymentFen),
        lgRef: yuan(d.ledger?.refundFen),
        sum: d.emptyBill ? '当日无账单' : d.summaryMatches === null ? null : d.summaryMatches ? '一致' : '不一致',
        matched: d.classes?.matched ?? null,
        healed: d.healed.length || null,
        inTransit: d.classes?.inTransit ?? null,
        open: d.openDiscrepancies,
        total: d.totalDiscrepancies,
        dupPaid: d.classes?.duplicatePaid ?? null,
        lastRunAt: china(d.lastRunAt),
        lastError: d.lastError,
      });
      if (d.status === 'none') continue;
      const detail = await this.day(d.billDate);
      for (const x of detail.discrepancies) {
        diffs.addRow({
          date: x.billDate,
          kind: x.kindLabel,
          outTradeNo: x.outTradeNo,
          outRefundNo: x.outRefundNo,
          diff: yuan(x.diffFen),
          status: x.status === 'open' ? '待处理' : '已处理',
          resolution: x.resolution ? RESOLUTION_TYPE_LABELS[x.resolution] : null,
          note: x.note,
          by: x.resolvedBy,
          at: china(x.resolvedAt),
          wechat: x.wechat ? JSON.stringify(x.wechat) : null,
          ledger: x.ledger ? JSON.stringify(x.ledger) : null,
        });
      }
      for (const p of detail.duplicatePayments) {
        pairs.addRow({
          date: d.billDate,
          billId: p.billId,
          kept: p.kept?.outTradeNo ?? null,
          keptFen: yuan(p.kept?.amountFen),
          dup: p.duplicate.outTradeNo,
          dupTx: p.duplicate.transactionId,
          dupFen: yuan(p.duplicate.amountFen),
          refundNo: p.refund?.outRefundNo ?? null,
          refundFen: yuan(p.refund?.amountFen),
          refundStatus: p.refund?.status ?? null,
          outstanding: yuan(p.outstandingFen),
          state: p.stateLabel,
        });
      }
      for (const h of d.healed) healedWs.addRow({ date: d.billDate, ref: h.ref, outTradeNo: h.outTradeNo, amount: yuan(h.amountFen), result: h.result });
    }
    return Buffer.from(await wb.xlsx.writeBuffer());
  }

  /** The raw bill as kept (for download), or null. */
  async rawBill(billDate: string): Promise<{ file: string; bytes: number } | null> {
    const row = await this.ds.getRepository(ReconDay).findOne({ where: { billDate } });
    if (!row?.billFile || !fs.existsSync(row.billFile)) return null;
    return { file: row.billFile, bytes: Number(row.billBytes ?? 0) };
  }
}

function noneView(billDate: string): ReconDayView {
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

function dayView(d: ReconDay, c: { open: number; total: number }): ReconDayView {
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
    openDiscrepancies: c.open,
    totalDiscrepancies: c.total,
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
    id: d.id,
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
