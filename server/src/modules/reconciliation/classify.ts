/**
 * Classifying one batch of bill rows against the ledger: matched, a refund in transit, a
 * duplicate row, a candidate for healing, or a difference for a human. Heal candidates are
 * handed to the Healer; what it cannot heal becomes a difference here.
 */
import type { HealedItem, ReconClassCounts } from '@heat-butler/shared';
import type { LedgerHit, PaymentOrder, PaymentsService, Refund } from '../payments';
import type { BillRow } from './csv';
import type { Healer, HealOutcome } from './healing';
import type { LedgerMarks } from './marks';
import type { DiscrepancyWriter } from './store';
import { ledgerSide, refOf, wechatSide, type Draft } from './types';

export interface MatchState {
  marks: LedgerMarks;
  writer: DiscrepancyWriter;
  classes: ReconClassCounts;
  healed: HealedItem[];
}

export interface Lookup {
  entries: Map<string, LedgerHit>;
  orders: Map<string, PaymentOrder>;
  refunds: Map<string, Refund>;
}

type OrderSide = Record<string, unknown> | null;
const orderSideOf = (o: PaymentOrder | undefined): OrderSide =>
  o ? { orderId: o.id, status: o.status, amountFen: o.amountFen, billId: o.billId, accountId: o.accountId, transactionId: o.transactionId } : null;
const refundSideOf = (r: Refund | undefined): OrderSide =>
  r ? { refundId: r.id, status: r.status, amountFen: r.amountFen, orderId: r.orderId, kind: r.kind } : null;

/** A difference for a human: the bill row's side, the ledger's side, and the amount between them. */
const difference = (r: BillRow, kind: Draft['kind'], ledger: Draft['ledger'], diffFen: number, key = refOf(r)): Draft => ({
  key,
  kind,
  outTradeNo: r.outTradeNo,
  outRefundNo: r.outRefundNo || null,
  wechat: wechatSide(r),
  ledger,
  diffFen,
});

export class BatchClassifier {
  constructor(
    private payments: PaymentsService,
    private healer: Healer,
  ) {}

  private get q() {
    return this.payments.ledgerQueries;
  }

  /**
   * What a batch needs from payments, looked up ahead of classification: the ledger entries of
   * its refs, and the orders / refunds of the rows the ledger lacks.
   */
  async lookup(rows: BillRow[]): Promise<Lookup> {
    const entries = await this.q.byRefs([...new Set(rows.map(refOf))]);
    const missingPay = rows.filter((r) => r.kind === 'payment' && !entries.has(refOf(r))).map((r) => r.outTradeNo);
    const missingRefund = rows.filter((r) => r.kind === 'refund' && !entries.has(refOf(r))).map((r) => r.outRefundNo);
    const [orders, refunds] = await Promise.all([
      this.q.ordersByOutTradeNos([...new Set(missingPay)]),
      this.q.refundsByOutRefundNos([...new Set(missingRefund)]),
    ]);
    // a movement split per bill (一键缴清) has no entry of the row's own ref: its order / refund says so
    for (const [ref, hit] of await this.q.splitMovements(orders, refunds)) entries.set(ref, hit);
    return { entries, orders: new Map(orders.map((o) => [o.outTradeNo, o])), refunds: new Map(refunds.map((x) => [x.outRefundNo, x])) };
  }

  /** One batch of bill rows with what `lookup` found for them. */
  async classify(rows: BillRow[], { entries, orders, refunds }: Lookup, s: MatchState) {
    // a row the ledger lacks repeats an earlier one when this run recorded its ref already
    const missing = [...new Set(rows.map(refOf).filter((ref) => !entries.has(ref)))];
    const before = missing.length ? await s.writer.seen(missing) : new Set<string>();
    const inBatch = new Set<string>();
    const fresh: BillRow[] = [];
    for (const r of rows) {
      const ref = refOf(r);
      const hit = entries.get(ref);
      // a movement split per bill (一键缴清) is matched by the one bill row as a whole
      const repeated = hit ? hit.ids.map((id) => s.marks.mark(id)).every(Boolean) : before.has(ref) || inBatch.has(ref);
      if (repeated) {
        s.writer.add(difference(r, 'duplicate', null, 0, `dup:${ref}`));
        continue;
      }
      if (!hit) inBatch.add(ref);
      fresh.push(r);
    }
    if (!fresh.length) return;

    // the ledger's side of every amount difference, in one query
    const differing = fresh.filter((r) => {
      const e = entries.get(refOf(r));
      return e && !this.agrees(r, e);
    });
    const full = new Map((await this.q.entriesByIds(differing.map((r) => entries.get(refOf(r))!.id))).map((e) => [Number(e.id), ledgerSide(e)]));
    const sideOf = (id: number) => full.get(id) ?? { id };

    for (const r of fresh) {
      const ref = refOf(r);
      const entry = entries.get(ref);
      if (r.kind === 'payment') {
        const wxFen = r.orderFen || r.settleFen;
        if (entry) {
          if (this.agrees(r, entry)) s.classes.matched++;
          else s.writer.add(difference(r, 'amount_mismatch', sideOf(entry.id), wxFen - entry.amountFen));
          continue;
        }
        const order = orders.get(r.outTradeNo);
        if (order?.status === 'pending') {
          const out = await this.healer.payment(ref, r.outTradeNo, wxFen);
          if (await this.healed(ref, out, s)) continue;
          const result = (out as { result: string }).result;
          if (result === 'flagged') s.writer.add(difference(r, 'amount_mismatch', { order: orderSideOf(order), credit: result }, wxFen - order.amountFen));
          else s.writer.add(difference(r, 'surplus', { order: orderSideOf(order), credit: result }, wxFen));
          continue;
        }
        // unknown order, or one we closed: only a human can tell
        s.writer.add(difference(r, 'surplus', order ? { order: orderSideOf(order) } : null, wxFen));
        continue;
      }

      // refund rows
      const processing = r.refundStatus !== 'SUCCESS';
      if (entry) {
        if (!this.agrees(r, entry)) s.writer.add(difference(r, 'refund_mismatch', sideOf(entry.id), -r.refundFen - entry.amountFen));
        else if (processing) s.classes.inTransit++;
        else s.classes.matched++;
        continue;
      }
      const refund = refunds.get(r.outRefundNo);
      if (refund && refund.amountFen === r.refundFen && refund.status !== 'success') {
        if (processing) {
          s.classes.inTransit++;
          s.writer.remember(ref);
          continue;
        }
        const out = await this.healer.refund(ref, r.outTradeNo, r.outRefundNo, r.refundFen);
        if (await this.healed(ref, out, s)) continue;
        s.writer.add(difference(r, 'refund_mismatch', { refund: refundSideOf(refund), query: (out as { result: string }).result }, -r.refundFen));
        continue;
      }
      s.writer.add(difference(r, 'refund_mismatch', refund ? { refund: refundSideOf(refund) } : null, -r.refundFen));
    }
  }

  /** the bill row and its ledger entry agree (amount, and the transaction when both have one) */
  private agrees(r: BillRow, e: LedgerHit): boolean {
    if (r.kind === 'refund') return -e.amountFen === r.refundFen;
    return e.amountFen === (r.orderFen || r.settleFen) && (!e.transactionId || !r.transactionId || e.transactionId === r.transactionId);
  }

  /** After a heal the new ledger entry counts as matched by the bill (not 短款; a repeat row is a duplicate). */
  private async healed(ref: string, out: HealOutcome, s: MatchState): Promise<boolean> {
    if (!out.healed) return false;
    for (const id of await this.healer.idsOf(ref)) s.marks.mark(id);
    s.writer.remember(ref);
    s.classes.healed++;
    s.healed.push(out.healed);
    return true;
  }
}
