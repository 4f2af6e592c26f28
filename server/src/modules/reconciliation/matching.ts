/**
 * One run's matching: stream the bill against the ledger and write what does not match as it is
 * found. Memory does not grow with the bill or with its differences: rows come in batches (the next
 * batches' ledger lookups run while one is classified), the ledger entries the bill matched are one
 * bit each in a bitmap over the day's ids, differences go to the database a batch at a time, and
 * 短款 are the day's entries left unmarked, read back page by page.
 */
import type { Readable } from 'node:stream';
import type { BillSummaryTotals, HealedItem, ReconClassCounts } from '@heat-butler/shared';
import type { PaymentsService } from '../payments';
import { microToFen, readTradeBillBatches, type BillSummary } from './csv';
import { BatchClassifier, type MatchState } from './classify';
import type { Healer } from './healing';
import { LedgerMarks } from './marks';
import type { DayResult, DiscrepancyWriter } from './store';
import { emptyClasses, emptyTotals, ledgerSide, type RunProgress } from './types';
import { dayRange, type ReconReader } from './views';

export interface Outcome extends DayResult {
  /** differences this run found (each written once) */
  discrepancies: number;
}

/** ledger entries read per page in the 短款 pass */
const LEDGER_PAGE = 20_000;
/** unmarked ledger entries loaded per query in the 短款 pass */
const SHORT_BATCH = 500;
/** bill batches whose ledger lookup may run ahead of classification (memory: LOOKAHEAD × batch rows; 3 was no faster and ~40 MB more RSS at 1M rows) */
const LOOKAHEAD = 2;

export class Matcher {
  private classifier: BatchClassifier;

  constructor(private o: { payments: PaymentsService; healer: Healer; reader: ReconReader; batchSize: number }) {
    this.classifier = new BatchClassifier(o.payments, o.healer);
  }

  private get q() {
    return this.o.payments.ledgerQueries;
  }

  async reconcile(billDate: string, input: Readable, writer: DiscrepancyWriter, totalBytes = 0, onProgress?: (p: RunProgress) => void): Promise<Outcome> {
    const wechat = emptyTotals();
    let feeMicro = 0;
    let summary: BillSummary | null = null;
    const classes: ReconClassCounts = emptyClasses();
    const healed: HealedItem[] = [];
    const [start, end] = dayRange(billDate);
    const range = await this.q.idRange(start, end);
    const state: MatchState = { marks: new LedgerMarks(range.lo, range.hi), writer, classes, healed };
    const progress = () => onProgress?.({ bytesRead: (input as any).bytesRead ?? 0, totalBytes, rows: wechat.rowCount });

    let processing: Promise<void> = Promise.resolve();
    const queued: Promise<void>[] = [];
    for await (const b of readTradeBillBatches(input, this.o.batchSize)) {
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
      const hits = this.classifier.lookup(rows);
      hits.catch(() => undefined);
      processing = processing.then(async () => {
        await this.classifier.classify(rows, await hits, state);
        await writer.flushIfFull();
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
      summaryTotals = {
        rowCount: summary.rowCount,
        paymentFen: summary.settleFen,
        refundFen: summary.refundFen,
        feeFen: microToFen(summary.feeMicro),
        orderFen: summary.orderFen,
      };
      summaryMatches =
        summary.rowCount === wechat.rowCount &&
        summary.settleFen === wechat.paymentFen &&
        summary.refundFen === wechat.refundFen &&
        summary.feeMicro === feeMicro;
    } else if (wechat.rowCount > 0) {
      summaryMatches = false;
    }
    if (summaryMatches === false) {
      writer.add({
        key: 'totals',
        kind: 'totals_mismatch',
        outTradeNo: null,
        outRefundNo: null,
        wechat: { rows: wechat, feeMicro },
        ledger: summary ? { summary: summaryTotals, feeMicro: summary.feeMicro } : { summary: null, problem: '账单缺少汇总行（文件可能不完整）' },
        diffFen: summary ? wechat.paymentFen - wechat.refundFen - (summary.settleFen - summary.refundFen) : 0,
      });
    }

    const ledger = await this.shortages(start, end, state);

    // bills paid twice that day: a pair with the refund that cancels the second payment; for a human only while not refunded
    const pairs = await this.o.reader.duplicatePairs(billDate);
    classes.duplicatePaid = pairs.length;
    const perOrder = new Map<string, number>();
    for (const p of pairs) perOrder.set(p.duplicate.outTradeNo, (perOrder.get(p.duplicate.outTradeNo) ?? 0) + 1);
    for (const p of pairs) {
      if (p.state !== 'open') continue;
      writer.add({
        // one per payment; one per bill of a 一键缴清 payment that paid several bills again
        key: perOrder.get(p.duplicate.outTradeNo)! > 1 ? `duppay:${p.duplicate.outTradeNo}:${p.billId}` : `duppay:${p.duplicate.outTradeNo}`,
        kind: 'double_payment',
        outTradeNo: p.duplicate.outTradeNo,
        outRefundNo: p.refund?.outRefundNo ?? null,
        wechat: { duplicate: p.duplicate, keptVia: p.keptVia, kept: p.kept, counterPaidAt: p.counterPaidAt },
        ledger: { billId: p.billId, refund: p.refund },
        diffFen: p.outstandingFen,
      });
    }
    await writer.flush();
    let discrepancies = 0;
    for (const [kind, n] of Object.entries(writer.counts)) {
      classes[kind as keyof ReconClassCounts] += n;
      discrepancies += n;
    }
    progress();
    return { wechat, summary: summaryTotals, summaryMatches, ledger, classes, healed, discrepancies };
  }

  /** The ledger's side of the day, page by page: totals, and every entry the bill did not mark is 短款. */
  private async shortages(start: Date, end: Date, s: MatchState) {
    const ledger = emptyTotals();
    const short = async (ids: number[]) => {
      const entries = await this.q.entriesByIds(ids);
      // a ledger entry whose bill row had no ledger match at lookup time (healed or credited meanwhile) is not 短款
      const seen = await s.writer.seen(entries.map((e) => e.ref));
      for (const e of entries.sort((a, b) => a.id - b.id)) {
        if (seen.has(e.ref)) continue;
        s.writer.add({
          key: e.ref,
          kind: 'shortage',
          outTradeNo: e.outTradeNo,
          outRefundNo: e.kind === 'refund' ? e.tradeRef.slice('refund:'.length) : null,
          wechat: null,
          ledger: ledgerSide(e),
          diffFen: -e.amountFen,
        });
      }
      await s.writer.flushIfFull();
    };
    /** trade refs of the day's split movements seen so far (few: only 一键缴清 orders and their refunds) */
    const parts = new Set<string>();
    for (let lastId = 0; ;) {
      const page = await this.q.page(start, end, lastId, LEDGER_PAGE);
      if (!page.length) break;
      let ids: number[] = [];
      for (const e of page) {
        // a movement split per bill (一键缴清) counts once, like its one row in WeChat's bill
        const counts = !e.part || !parts.has(e.part);
        if (e.part) parts.add(e.part);
        if (counts) ledger.rowCount++;
        if (e.kind === 'payment') {
          if (counts) ledger.paymentCount++;
          ledger.paymentFen += e.amountFen;
        } else {
          if (counts) ledger.refundCount++;
          ledger.refundFen += -e.amountFen;
        }
        if (!s.marks.has(e.id)) ids.push(e.id);
        if (ids.length >= SHORT_BATCH) {
          await short(ids);
          ids = [];
        }
      }
      if (ids.length) await short(ids);
      lastId = page[page.length - 1]!.id;
    }
    ledger.netFen = ledger.paymentFen - ledger.refundFen;
    return ledger;
  }
}
