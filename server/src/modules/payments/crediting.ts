import { formatChinaTime, fenToYuanString, ORDER_TRANSITIONS, type OrderState } from '@heat-butler/shared';
import { forUpdate, insertRows, updateByIds, withTx } from '../../platform/db/data-source';
import { creditBatch } from '../../platform/metrics';
import { applyTransitions, SYSTEM } from '../../platform/state';
import type { Transaction } from '../../wechat/pay';
import { LedgerEntry, PaymentOrder } from './entities';
import type { PaymentRefunds } from './refunds';
import type { CreditResult, PaymentsOptions } from './service';
import { linesOf } from './pay-all';
import { flag } from './support';

/**
 * The one exactly-once crediting path: notifications (batched, group commit), the mini-program's
 * query, the sweeper and reconciliation all end in creditMany.
 */
export class OrderCrediting {
  constructor(
    private o: PaymentsOptions,
    private refunds: PaymentRefunds,
  ) {}

  /** THE crediting path for one transaction (query, sweeper, reconciliation): see creditMany. */
  async credit(tx: Transaction, by: PaymentOrder['creditedBy'] & string): Promise<CreditResult> {
    return (await this.creditMany([tx], by))[0]!;
  }

  /**
   * Notifications arriving together are credited together: while one batch commits, the next
   * gathers (group commit). Once OVERLAP_AT wait, a second batch starts beside the first, so that
   * node verifies and decrypts while the database commits instead of idling until the first batch
   * is done. A batch that fails is retried one by one, so one bad notification never fails the
   * others.
   */
  creditQueued(tx: Transaction): Promise<CreditResult> {
    return new Promise((resolve, reject) => {
      this.creditQueue.push({ tx, resolve, reject });
      if (this.flushers === 0 || (this.flushers === 1 && this.creditQueue.length >= OrderCrediting.OVERLAP_AT)) void this.flushCredits();
    });
  }

  private creditQueue: { tx: Transaction; resolve: (r: CreditResult) => void; reject: (e: unknown) => void }[] = [];
  /** batches committing at once: each waits on the database, so a few overlap (rows differ) */
  private flushers = 0;
  private static readonly MAX_FLUSHERS = 4;
  /**
   * Waiting notifications that start a second batch while one commits. With 128 in flight the
   * BFF reached 76.8–83.0 % of the bare handler's rate with one batch at a time, 83.2–86.7 % with
   * this (81.4–87.2 % at 64; bench:notify, 2026-12-01): below it, one batch at a time keeps
   * statements per notification low (0.16 against 0.22).
   */
  private static readonly OVERLAP_AT = 48;

  private async flushCredits(): Promise<void> {
    this.flushers++;
    try {
      while (this.creditQueue.length) {
        const batch = this.creditQueue.splice(0, 100);
        creditBatch(batch.length, this.flushers > 1);
        // more waiting than this batch takes: let another batch start alongside
        if (this.creditQueue.length && this.flushers < OrderCrediting.MAX_FLUSHERS) void this.flushCredits();
        try {
          const results = await this.creditMany(
            batch.map((b) => b.tx),
            'notify',
          );
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch {
          for (const b of batch) await this.creditMany([b.tx], 'notify').then((r) => b.resolve(r[0]!), b.reject);
        }
      }
    } finally {
      this.flushers--;
    }
  }

  /**
   * Mark orders paid exactly once, write their ledger entries (one per bill: a pay-all order's
   * lines), settle their bills (or refund what was paid twice), queue the resident's message and
   * emit payment.credited — all in one transaction, in a handful of statements however many orders. Nothing of another module runs here but
   * billing's settlement (atomic with the payment by nature): the reactions to payment.credited
   * are outbox rows, run after commit. Re-entrant: a repeated notification finds its order paid
   * and changes nothing.
   */
  async creditMany(txs: Transaction[], by: PaymentOrder['creditedBy'] & string): Promise<CreditResult[]> {
    const results: (CreditResult | null)[] = txs.map((tx) => (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND' ? null : 'not_paid'));
    if (results.every((r) => r !== null)) return results as CreditResult[];
    const now = this.o.clock();
    return withTx(this.o.ds, async (em) => {
      const nos = [...new Set(txs.filter((_, i) => results[i] === null).map((tx) => tx.out_trade_no))];
      const orders = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.outTradeNo IN (:...nos)', { nos })).getMany();
      const byNo = new Map(orders.map((o) => [o.outTradeNo, o]));
      const credited: { i: number; order: PaymentOrder; from: OrderState; paidAt: Date }[] = [];
      for (let i = 0; i < txs.length; i++) {
        if (results[i] !== null) continue;
        const tx = txs[i]!;
        const order = byNo.get(tx.out_trade_no);
        if (!order) {
          await flag(em, this.o.log, 'unknown_order', tx.out_trade_no, { transaction: tx });
          results[i] = 'flagged';
        } else if (order.status === 'paid') {
          results[i] = 'already';
        } else if (tx.mchid !== this.o.mchid || tx.appid !== this.o.appid) {
          await flag(em, this.o.log, 'merchant_mismatch', order.outTradeNo, {
            expected: { mchid: this.o.mchid, appid: this.o.appid },
            got: { mchid: tx.mchid, appid: tx.appid },
          });
          results[i] = 'flagged';
        } else if (tx.amount?.total !== order.amountFen) {
          await flag(em, this.o.log, 'amount_mismatch', order.outTradeNo, {
            orderFen: order.amountFen,
            wechatFen: tx.amount?.total,
            transactionId: tx.transaction_id,
          });
          results[i] = 'flagged';
        } else {
          const paidAt = tx.success_time ? new Date(tx.success_time) : now;
          credited.push({ i, order, from: order.status, paidAt });
          Object.assign(order, { status: 'paid', pendingKey: null, transactionId: tx.transaction_id ?? null, paidAt, creditedBy: by });
          results[i] = 'credited';
        }
      }
      if (!credited.length) return results as CreditResult[];

      await applyTransitions(
        em,
        ORDER_TRANSITIONS,
        credited.map(({ order, from }) => ({ type: 'payment_order', id: order.id, state: from, reason: by, data: { transactionId: order.transactionId } })),
        'paid',
        SYSTEM,
      );
      // per bill the order pays (one, or the lines of a pay-all order): a ledger entry and a settlement
      const lines = await linesOf(
        em,
        credited.map((c) => c.order),
      );
      const parts = credited.flatMap((c) => lines.get(c.order.id)!.map((line) => ({ c, line })));
      await insertRows(
        em,
        LedgerEntry,
        parts.map(({ c: { order, paidAt }, line }) => {
          const tradeRef = `pay:${order.outTradeNo}`;
          return {
            ref: order.billCount > 1 ? `${tradeRef}:${line.billId}` : tradeRef,
            tradeRef,
            kind: 'payment' as const,
            amountFen: line.amountFen,
            orderId: order.id,
            refundId: null,
            billId: line.billId,
            accountId: order.accountId,
            outTradeNo: order.outTradeNo,
            transactionId: order.transactionId,
            at: paidAt,
          };
        }),
      );
      const settled = await this.o.billing.settleWithPayments(
        em,
        parts.map(({ c, line }) => ({
          billId: line.billId,
          orderId: c.order.id,
          amountFen: line.amountFen,
          discountFen: line.discountFen,
          lateFeeFen: line.lateFeeFen,
          at: c.paidAt,
        })),
      );
      // bills settled by someone else first: their part goes back (all of it: a duplicate order)
      const dupLines = new Map<number, { billId: number; amountFen: number }[]>();
      parts.forEach(({ c, line }, k) => {
        if (settled[k] === 'duplicate') dupLines.set(c.order.id, [...(dupLines.get(c.order.id) ?? []), { billId: line.billId, amountFen: line.amountFen }]);
      });
      for (const c of credited) c.order.duplicate = (dupLines.get(c.order.id)?.length ?? 0) === lines.get(c.order.id)!.length;
      await updateByIds(
        em,
        PaymentOrder,
        credited.map(({ order, paidAt }) => ({ id: order.id, set: { transactionId: order.transactionId, paidAt, duplicate: order.duplicate } })),
        { status: 'paid', pendingKey: null, creditedBy: by },
      );
      const paid = credited.filter((c) => !c.order.duplicate);
      // written with the reactions' rows below, in one INSERT
      const messages = this.o.notifications.residentMessages(
        paid.map(({ order, paidAt }) => ({
          residentId: order.residentId,
          template: 'paymentSuccess' as const,
          data: {
            character_string1: order.outTradeNo,
            amount2: `${fenToYuanString(order.amountFen)}元`,
            thing3: order.description.slice(0, 20),
            time4: formatChinaTime(paidAt),
          },
          page: `pages/payments/detail?id=${order.id}`,
          dedupeKey: `paid:${order.outTradeNo}`,
        })),
      );
      for (const c of credited) {
        const dups = dupLines.get(c.order.id);
        if (!dups?.length) continue;
        if (c.order.duplicate) results[c.i] = 'duplicate';
        await this.refunds.createRefund(em, c.order, {
          amountFen: dups.reduce((s, d) => s + d.amountFen, 0),
          kind: 'duplicate',
          reason: c.order.duplicate ? '账单已缴清，重复支付自动退款' : '部分账单已缴清，重复部分自动退款',
          rulingRef: null,
          requestedBy: null,
          lines: c.order.billCount > 1 ? dups : undefined,
        });
      }
      // invoices, service-changes … react after commit (platform/events.ts): none of them can fail
      // this. One item per bill settled (an invoice is per order: invoices take each order once)
      await this.o.events.emit(
        em,
        'payment.credited',
        parts
          .filter((_, k) => settled[k] === 'paid')
          .map(({ c: { order }, line }) => ({ orderId: order.id, billId: line.billId, accountId: order.accountId, residentId: order.residentId })),
        messages,
      );
      return results as CreditResult[];
    });
  }
}
