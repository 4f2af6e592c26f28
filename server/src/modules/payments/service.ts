import crypto from 'node:crypto';
import { In, LessThan, type DataSource, type EntityManager } from 'typeorm';
import {
  formatChinaTime,
  fenToYuanString,
  ORDER_TRANSITIONS,
  REFUND_TRANSITIONS,
  RefundRequest,
  seasonLabel,
  type OrderState,
  type PaymentOrderView,
  type RefundState,
  type RefundView,
} from '@heat-butler/shared';
import { AppError, errorSummary } from '../../platform/errors';
import { forUpdate, insertRow, insertRows, isUniqueViolation, updateByIds, withTx } from '../../platform/db/data-source';
import { enqueue, PermanentFailure, type OutboxWorker } from '../../platform/outbox';
import { applyTransition, applyTransitions, recordTransition, SYSTEM, type Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { StaffPrincipal } from '../../platform/auth';
import { PayApiError, type PayClient, type Transaction, type Refund as WxRefund } from '../../wechat/pay';
import type { AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { NotificationsService } from '../notifications';
import { LedgerEntry, PaymentAnomaly, PaymentOrder, Refund } from './entities';
import { LedgerQueries } from './ledger-queries';

export const REFUND_SUBMIT_TOPIC = 'payments.refund.submit';

export interface PaymentsOptions {
  ds: DataSource;
  pay: PayClient;
  billing: BillingService;
  accounts: AccountsService;
  notifications: NotificationsService;
  log: Logger;
  clock: () => Date;
  appid: string;
  mchid: string;
  /** where WeChat posts payment and refund notifications */
  notifyUrl: string;
  /** how long a resident has to pay an order (WeChat time_expire) */
  orderTtlMinutes?: number;
  /** the sweeper queries orders still pending after this long */
  sweepAfterMinutes?: number;
}

/** What a payment notification, a query or the sweeper found out; one path applies it. */
export type CreditResult = 'credited' | 'duplicate' | 'already' | 'flagged' | 'not_paid';

/** Called inside the crediting transaction, e.g. to queue an automatic invoice request. */
export type PaidHook = (em: EntityManager, orders: PaymentOrder[]) => Promise<void>;

/** Called inside the transaction that records a successful refund (e.g. to reverse an invoice). */
export type RefundedHook = (em: EntityManager, order: PaymentOrder, refund: Refund) => Promise<void>;

/**
 * WeChat Pay for bills: orders, the one exactly-once crediting path (notification, query, sweeper
 * and reconciliation all use it), automatic refund of duplicate payments, finance refunds, ledger.
 */
export class PaymentsService {
  private paidHooks: PaidHook[] = [];
  private ttlMs: number;
  private sweepAfterMs: number;

  /** Read-only ledger, order and refund queries for reconciliation. */
  readonly ledgerQueries: LedgerQueries;

  constructor(private o: PaymentsOptions) {
    this.ledgerQueries = new LedgerQueries(o.ds);
    this.ttlMs = (o.orderTtlMinutes ?? 30) * 60_000;
    this.sweepAfterMs = (o.sweepAfterMinutes ?? 5) * 60_000;
  }

  onPaid(hook: PaidHook): void {
    this.paidHooks.push(hook);
  }

  private refundedHooks: RefundedHook[] = [];

  onRefunded(hook: RefundedHook): void {
    this.refundedHooks.push(hook);
  }

  register(outbox: OutboxWorker): void {
    outbox.register(REFUND_SUBMIT_TOPIC, async (p: { refundId: number }) => this.submitRefund(p.refundId));
  }

  private get ds() {
    return this.o.ds;
  }

  // ---- creating an order ------------------------------------------------------------------------

  /**
   * An order for one unpaid bill of an account bound to the resident, with the wx.requestPayment
   * parameters. A second call while the order is pending returns the same order.
   */
  async create(resident: { residentId: number; openid: string }, billId: number): Promise<PaymentOrderView> {
    const now = this.o.clock();
    const bill = await this.o.billing.bill(billId);
    if (!bill) throw new AppError('BILL_NOT_FOUND');
    await this.o.accounts.assertBound(resident.residentId, bill.accountId).catch(() => {
      throw new AppError('BILL_NOT_FOUND');
    });
    if (bill.status === 'paid') throw new AppError('BILL_ALREADY_PAID');
    if (bill.status === 'void') throw new AppError('BILL_VOID');
    await this.o.billing.assertPayable(this.ds.manager, bill.id);
    const pendingKey = `${bill.id}:${resident.residentId}`;

    const existing = await this.ds.getRepository(PaymentOrder).findOne({ where: { pendingKey } });
    if (existing) {
      if (existing.payParams && existing.expiresAt.getTime() - now.getTime() > 60_000) return this.view(existing, true);
      // about to expire, or prepay never succeeded: close it and start again
      await this.closeAtWechat(existing);
      const after = await this.ds.getRepository(PaymentOrder).findOneByOrFail({ id: existing.id });
      if (after.status === 'paid') throw new AppError('BILL_ALREADY_PAID');
    }

    const season = await this.o.billing.season(bill.seasonId);
    const account = await this.o.accounts.account(bill.accountId);
    let order: PaymentOrder;
    try {
      order = await withTx(this.ds, async (em) => {
        const locked = await this.o.billing.lockBill(em, bill.id);
        if (locked.status !== 'unpaid') throw new AppError('BILL_ALREADY_PAID');
        const quote = await this.o.billing.quoteFor(em, locked, now);
        if (quote.dueFen <= 0) throw new AppError('BILL_NOTHING_DUE');
        const row = em.create(PaymentOrder, {
          outTradeNo: newOutTradeNo(now),
          billId: bill.id,
          accountId: bill.accountId,
          residentId: resident.residentId,
          openid: resident.openid,
          description: `${seasonLabel(season.code)}热费-户号${account?.accountNo ?? ''}`.slice(0, 40),
          amountFen: quote.dueFen,
          discountFen: quote.discountFen,
          lateFeeFen: quote.lateFeeFen,
          status: 'pending',
          pendingKey,
          payParams: null,
          transactionId: null,
          expiresAt: new Date(now.getTime() + this.ttlMs),
          paidAt: null,
          creditedBy: null,
          duplicate: false,
          refundedFen: 0,
        });
        await em.save(row);
        await recordTransition(em, 'payment_order', row.id, null, 'pending', { kind: 'resident', id: resident.residentId, as: ['resident'] });
        return row;
      });
    } catch (err) {
      // a concurrent tap created it first: answer with that one
      if (isUniqueViolation(err)) {
        const other = await this.ds.getRepository(PaymentOrder).findOne({ where: { pendingKey } });
        if (other?.payParams) return this.view(other, true);
        throw new AppError('CONFLICT');
      }
      throw err;
    }

    try {
      const params = await this.o.pay.jsapiPrepay({
        description: order.description,
        outTradeNo: order.outTradeNo,
        amountFen: order.amountFen,
        openid: order.openid,
        timeExpire: order.expiresAt,
        notifyUrl: this.o.notifyUrl,
        attach: `bill:${order.billId}`,
      });
      const { prepayId: _p, ...payParams } = params;
      await this.ds.getRepository(PaymentOrder).update(order.id, { payParams });
      order.payParams = payParams;
    } catch (err) {
      this.o.log.warn({ outTradeNo: order.outTradeNo, error: errInfo(err) }, 'jsapi prepay failed');
      // nothing was charged: the order closes so the resident can try again
      await this.markClosed(order.id, 'prepay failed');
      throw new AppError('PAYMENT_UNAVAILABLE');
    }
    return this.view(order, true);
  }

  // ---- learning that an order was paid ----------------------------------------------------------

  /** The mini-program's "I paid (or cancelled)": query WeChat if we have not heard yet. */
  async confirm(residentId: number, orderId: number): Promise<PaymentOrderView> {
    const order = await this.orderOfResident(residentId, orderId);
    if (order.status === 'pending') {
      try {
        const tx = await this.o.pay.queryByOutTradeNo(order.outTradeNo);
        if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') await this.credit(tx, 'query');
      } catch (err) {
        // WeChat unreachable: the notification or the sweeper will settle it
        this.o.log.warn({ outTradeNo: order.outTradeNo, error: errInfo(err) }, 'order query failed');
      }
    }
    return this.view(await this.ds.getRepository(PaymentOrder).findOneByOrFail({ id: order.id }), false);
  }

  /** A verified, decrypted notification (payment or refund). */
  async applyNotification(eventType: string, resource: any): Promise<CreditResult | RefundState | 'ignored'> {
    if (eventType === 'TRANSACTION.SUCCESS') return this.creditQueued(resource as Transaction);
    if (eventType.startsWith('REFUND.')) return this.applyRefundResult(resource);
    this.o.log.info({ eventType }, 'notification type ignored');
    return 'ignored';
  }

  /** THE crediting path for one transaction (query, sweeper, reconciliation): see creditMany. */
  async credit(tx: Transaction, by: PaymentOrder['creditedBy'] & string): Promise<CreditResult> {
    return (await this.creditMany([tx], by))[0]!;
  }

  /**
   * Notifications arriving together are credited together: while one batch commits, the next
   * gathers (group commit). A batch that fails is retried one by one, so one bad notification
   * never fails the others.
   */
  creditQueued(tx: Transaction): Promise<CreditResult> {
    return new Promise((resolve, reject) => {
      this.creditQueue.push({ tx, resolve, reject });
      if (this.flushers === 0) void this.flushCredits();
    });
  }

  private creditQueue: { tx: Transaction; resolve: (r: CreditResult) => void; reject: (e: unknown) => void }[] = [];
  /** batches committing at once: each waits on the database, so a few overlap (rows differ) */
  private flushers = 0;
  private static readonly MAX_FLUSHERS = 4;

  private async flushCredits(): Promise<void> {
    this.flushers++;
    try {
      while (this.creditQueue.length) {
        const batch = this.creditQueue.splice(0, 100);
        // more waiting than this batch takes: let another batch start alongside
        if (this.creditQueue.length && this.flushers < PaymentsService.MAX_FLUSHERS) void this.flushCredits();
        try {
          const results = await this.creditMany(batch.map((b) => b.tx), 'notify');
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
   * Mark orders paid exactly once, write their ledger entries, settle their bills (or refund a
   * duplicate), queue follow-ups — all in one transaction, in a handful of statements however
   * many orders. Re-entrant: a repeated notification finds its order paid and changes nothing.
   */
  async creditMany(txs: Transaction[], by: PaymentOrder['creditedBy'] & string): Promise<CreditResult[]> {
    const results: (CreditResult | null)[] = txs.map((tx) => (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND' ? null : 'not_paid'));
    if (results.every((r) => r !== null)) return results as CreditResult[];
    const now = this.o.clock();
    return withTx(this.ds, async (em) => {
      const nos = [...new Set(txs.filter((_, i) => results[i] === null).map((tx) => tx.out_trade_no))];
      const orders = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.outTradeNo IN (:...nos)', { nos }).orderBy('o.id', 'ASC')).getMany();
      const byNo = new Map(orders.map((o) => [o.outTradeNo, o]));
      const credited: { i: number; order: PaymentOrder; from: OrderState; paidAt: Date }[] = [];
      for (let i = 0; i < txs.length; i++) {
        if (results[i] !== null) continue;
        const tx = txs[i]!;
        const order = byNo.get(tx.out_trade_no);
        if (!order) {
          await this.flag(em, 'unknown_order', tx.out_trade_no, { transaction: tx });
          results[i] = 'flagged';
        } else if (order.status === 'paid') {
          results[i] = 'already';
        } else if (tx.mchid !== this.o.mchid || tx.appid !== this.o.appid) {
          await this.flag(em, 'merchant_mismatch', order.outTradeNo, { expected: { mchid: this.o.mchid, appid: this.o.appid }, got: { mchid: tx.mchid, appid: tx.appid } });
          results[i] = 'flagged';
        } else if (tx.amount?.total !== order.amountFen) {
          await this.flag(em, 'amount_mismatch', order.outTradeNo, { orderFen: order.amountFen, wechatFen: tx.amount?.total, transactionId: tx.transaction_id });
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
      await insertRows(
        em,
        LedgerEntry,
        credited.map(({ order, paidAt }) => ({
          ref: `pay:${order.outTradeNo}`,
          kind: 'payment' as const,
          amountFen: order.amountFen,
          orderId: order.id,
          refundId: null,
          billId: order.billId,
          accountId: order.accountId,
          outTradeNo: order.outTradeNo,
          transactionId: order.transactionId,
          at: paidAt,
        })),
      );
      const settled = await this.o.billing.settleWithPayments(
        em,
        credited.map(({ order, paidAt }) => ({ billId: order.billId, orderId: order.id, amountFen: order.amountFen, discountFen: order.discountFen, lateFeeFen: order.lateFeeFen, at: paidAt })),
      );
      for (const c of credited) c.order.duplicate = settled.get(c.order.id) === 'duplicate';
      await updateByIds(
        em,
        PaymentOrder,
        credited.map(({ order, paidAt }) => ({ id: order.id, set: { transactionId: order.transactionId, paidAt, duplicate: order.duplicate } })),
        { status: 'paid', pendingKey: null, creditedBy: by },
      );
      const paid = credited.filter((c) => !c.order.duplicate);
      await this.o.notifications.toResidents(
        em,
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
        now,
      );
      for (const c of credited) {
        if (!c.order.duplicate) continue;
        results[c.i] = 'duplicate';
        await this.createRefund(em, c.order, { amountFen: c.order.amountFen, kind: 'duplicate', reason: '账单已缴清，重复支付自动退款', rulingRef: null, requestedBy: null });
      }
      if (paid.length) for (const hook of this.paidHooks) await hook(em, paid.map((c) => c.order));
      return results as CreditResult[];
    });
  }

  private async flag(em: EntityManager, kind: PaymentAnomaly['kind'], outTradeNo: string, detail: Record<string, unknown>) {
    this.o.log.error({ kind, outTradeNo }, 'payment anomaly: not credited, flagged for finance');
    const key = `${kind}:${outTradeNo}`;
    if (await em.findOne(PaymentAnomaly, { where: { key } })) return;
    await em.insert(PaymentAnomaly, { kind, key, outTradeNo, detail: detail as any, resolved: false });
  }

  // ---- the sweeper ---------------------------------------------------------------------------------

  /**
   * Query orders still pending after a few minutes: credit the paid ones (a lost notification),
   * close the expired ones; resubmit refunds WeChat never accepted, query those still processing.
   */
  async sweep(now: Date = this.o.clock()): Promise<{ credited: number; closed: number; refunds: number }> {
    const stats = { credited: 0, closed: 0, refunds: 0 };
    const pending = await this.ds.getRepository(PaymentOrder).find({
      where: { status: 'pending', createdAt: LessThan(new Date(now.getTime() - this.sweepAfterMs)) },
      order: { id: 'ASC' },
      take: 200,
    });
    for (const order of pending) {
      try {
        const tx = await this.o.pay.queryByOutTradeNo(order.outTradeNo);
        if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') {
          if ((await this.credit(tx, 'sweep')) !== 'flagged') stats.credited++;
        } else if (tx.trade_state === 'CLOSED' || tx.trade_state === 'REVOKED' || tx.trade_state === 'PAYERROR') {
          await this.markClosed(order.id, `wechat ${tx.trade_state}`);
          stats.closed++;
        } else if (order.expiresAt <= now) {
          if (await this.closeAtWechat(order)) stats.closed++;
        }
      } catch (err) {
        if (err instanceof PayApiError && err.code === 'ORDER_NOT_EXIST' && order.expiresAt <= now) {
          await this.markClosed(order.id, 'unknown to wechat');
          stats.closed++;
        } else {
          this.o.log.warn({ outTradeNo: order.outTradeNo, error: errInfo(err) }, 'sweep: query failed');
        }
      }
    }
    const refunds = await this.ds.getRepository(Refund).find({
      where: [
        { status: 'requested', createdAt: LessThan(new Date(now.getTime() - 60_000)) },
        { status: 'processing', updatedAt: LessThan(new Date(now.getTime() - 60_000)) },
      ],
      take: 200,
    });
    for (const refund of refunds) {
      try {
        if (refund.status === 'requested') await this.submitRefund(refund.id);
        else await this.applyRefundResult(await this.o.pay.queryRefund(refund.outRefundNo));
        stats.refunds++;
      } catch (err) {
        this.o.log.warn({ outRefundNo: refund.outRefundNo, error: errInfo(err) }, 'sweep: refund follow-up failed');
      }
    }
    return stats;
  }

  /** Close at WeChat, then locally; a paid order found on the way is credited instead. */
  private async closeAtWechat(order: PaymentOrder): Promise<boolean> {
    if (order.payParams) {
      try {
        await this.o.pay.close(order.outTradeNo);
      } catch (err) {
        if (err instanceof PayApiError && err.status !== null && err.status < 500 && err.code !== 'ORDER_NOT_EXIST') {
          // most likely paid in the meantime: find out and credit
          const tx = await this.o.pay.queryByOutTradeNo(order.outTradeNo);
          if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') {
            await this.credit(tx, 'sweep');
            return false;
          }
        } else if (!(err instanceof PayApiError && err.code === 'ORDER_NOT_EXIST')) {
          throw err;
        }
      }
    }
    await this.markClosed(order.id, 'expired');
    return true;
  }

  private async markClosed(orderId: number, reason: string): Promise<void> {
    await withTx(this.ds, async (em) => {
      const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: orderId })).getOne();
      if (!order || order.status !== 'pending') return;
      await applyTransition(em, ORDER_TRANSITIONS, { type: 'payment_order', id: order.id, state: order.status }, 'closed', SYSTEM, reason);
      await em.update(PaymentOrder, order.id, { status: 'closed', pendingKey: null });
    });
  }

  // ---- refunds ---------------------------------------------------------------------------------

  /** Finance refunds all or part of a paid order, with a reason and the ruling it follows. */
  async refund(staff: { staffId: number; roles: readonly string[] }, orderId: number, input: RefundRequest): Promise<RefundView> {
    const req = RefundRequest.parse(input);
    const refund = await withTx(this.ds, async (em) => {
      const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: orderId })).getOne();
      if (!order) throw new AppError('ORDER_NOT_FOUND');
      if (order.status !== 'paid') throw new AppError('REFUND_NOT_ALLOWED');
      return this.createRefund(em, order, {
        amountFen: req.amountFen,
        kind: req.kind,
        reason: req.reason,
        rulingRef: req.rulingRef ?? null,
        requestedBy: staff.staffId,
        actor: { kind: 'staff', id: staff.staffId, as: staff.roles },
      });
    });
    // submit now for a quick answer; the outbox retries if WeChat is unreachable
    await this.submitRefund(refund.id).catch((err) => this.o.log.warn({ refundId: refund.id, error: errInfo(err) }, 'refund submit deferred'));
    return refundView(await this.ds.getRepository(Refund).findOneByOrFail({ id: refund.id }));
  }

  /**
   * A refund another module decides inside its own transaction (a stop approved after the full
   * fee was paid): created with the order locked, submitted by the outbox.
   */
  async refundInTx(
    em: EntityManager,
    orderId: number,
    r: { amountFen: number; kind: Refund['kind']; reason: string; rulingRef?: string | null; actor: Actor },
  ): Promise<Refund> {
    const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: orderId })).getOne();
    if (!order || order.status !== 'paid') throw new AppError('REFUND_NOT_ALLOWED');
    return this.createRefund(em, order, {
      amountFen: r.amountFen,
      kind: r.kind,
      reason: r.reason,
      rulingRef: r.rulingRef ?? null,
      requestedBy: r.actor.kind === 'staff' ? r.actor.id : null,
      actor: r.actor,
    });
  }

  private async createRefund(
    em: EntityManager,
    order: PaymentOrder,
    r: { amountFen: number; kind: Refund['kind']; reason: string; rulingRef: string | null; requestedBy: number | null; actor?: Actor },
  ): Promise<Refund> {
    const open = await em.find(Refund, { where: { orderId: order.id, status: In(['requested', 'processing', 'success', 'abnormal']) } });
    const committed = open.reduce((s, x) => s + x.amountFen, 0);
    if (r.amountFen > order.amountFen - committed) {
      throw new AppError('REFUND_EXCEEDS_PAID', { refundableFen: order.amountFen - committed });
    }
    if (open.length >= 50) throw new AppError('REFUND_EXCEEDS_PAID', { reason: 'WeChat allows at most 50 partial refunds' });
    const row = em.create(Refund, {
      outRefundNo: `${order.outTradeNo}R${(await em.count(Refund, { where: { orderId: order.id } })) + 1}`,
      orderId: order.id,
      amountFen: r.amountFen,
      kind: r.kind,
      reason: r.reason,
      rulingRef: r.rulingRef,
      status: 'requested',
      refundId: null,
      requestedBy: r.requestedBy,
      failure: null,
      succeededAt: null,
    });
    await em.save(row);
    await recordTransition(em, 'refund', row.id, null, 'requested', r.actor ?? SYSTEM, r.reason, { rulingRef: r.rulingRef });
    await enqueue(em, REFUND_SUBMIT_TOPIC, { refundId: row.id }, { dedupeKey: `refund:${row.outRefundNo}`, now: this.o.clock() });
    return row;
  }

  /** Ask WeChat for the refund (same out_refund_no on every retry). */
  async submitRefund(refundId: number): Promise<void> {
    const refund = await this.ds.getRepository(Refund).findOneByOrFail({ id: refundId });
    if (refund.status !== 'requested') return;
    const order = await this.ds.getRepository(PaymentOrder).findOneByOrFail({ id: refund.orderId });
    let result: WxRefund;
    try {
      result = await this.o.pay.refund({
        outTradeNo: order.outTradeNo,
        outRefundNo: refund.outRefundNo,
        refundFen: refund.amountFen,
        totalFen: order.amountFen,
        reason: refund.reason,
        notifyUrl: this.o.notifyUrl,
      });
    } catch (err) {
      if (err instanceof PayApiError && err.status !== null && [400, 404].includes(err.status)) {
        await this.moveRefund(refund.id, 'failed', `${err.code}: ${err.message}`.slice(0, 200));
        throw new PermanentFailure(`refund rejected: ${err.code}`);
      }
      throw err;
    }
    await this.applyRefundResult({ out_refund_no: result.out_refund_no, refund_status: result.status, refund_id: result.refund_id, success_time: result.success_time });
  }

  /** A refund's outcome from its notification, the submit answer or a query. Re-entrant. */
  async applyRefundResult(r: { out_refund_no: string; refund_status?: string; status?: string; refund_id?: string; success_time?: string }): Promise<RefundState> {
    const status = (r.refund_status ?? r.status ?? '').toUpperCase();
    const target: RefundState | null =
      status === 'SUCCESS' ? 'success' : status === 'PROCESSING' ? 'processing' : status === 'CLOSED' ? 'closed' : status === 'ABNORMAL' ? 'abnormal' : null;
    const now = this.o.clock();
    return withTx(this.ds, async (em) => {
      const refund = await forUpdate(em.createQueryBuilder(Refund, 'r').where('r.outRefundNo = :no', { no: r.out_refund_no })).getOne();
      if (!refund) {
        await this.flag(em, 'unknown_refund', r.out_refund_no, { refund: r });
        return 'failed';
      }
      if (!target || refund.status === target || refund.status === 'success') return refund.status;
      // "processing" after "requested" is implied by any later state
      if (refund.status === 'requested' && target !== 'processing' && target !== 'success') {
        await applyTransition(em, REFUND_TRANSITIONS, { type: 'refund', id: refund.id, state: 'requested' }, 'processing', SYSTEM);
        refund.status = 'processing';
      }
      await applyTransition(em, REFUND_TRANSITIONS, { type: 'refund', id: refund.id, state: refund.status }, target, SYSTEM);
      refund.status = target;
      if (r.refund_id) refund.refundId = r.refund_id;
      if (target === 'success') {
        // locked: two refunds of one order may succeed at the same moment
        const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: refund.orderId })).getOneOrFail();
        refund.succeededAt = r.success_time ? new Date(r.success_time) : now;
        await insertRow(em, LedgerEntry, {
          ref: `refund:${refund.outRefundNo}`,
          kind: 'refund',
          amountFen: -refund.amountFen,
          orderId: order.id,
          refundId: refund.id,
          billId: order.billId,
          accountId: order.accountId,
          outTradeNo: order.outTradeNo,
          transactionId: order.transactionId,
          at: refund.succeededAt,
        });
        await em.update(PaymentOrder, order.id, { refundedFen: order.refundedFen + refund.amountFen });
        order.refundedFen += refund.amountFen;
        for (const hook of this.refundedHooks) await hook(em, order, refund);
        await this.o.notifications.toResident(
          em,
          order.residentId,
          'refund',
          {
            character_string1: order.outTradeNo,
            amount2: `${fenToYuanString(refund.amountFen)}元`,
            thing3: refund.reason.slice(0, 20),
            time4: formatChinaTime(refund.succeededAt).slice(0, 16),
          },
          { page: `pages/payments/detail?id=${order.id}`, dedupeKey: `refunded:${refund.outRefundNo}`, now },
        );
      }
      await em.save(refund);
      return target;
    });
  }

  private async moveRefund(refundId: number, to: RefundState, failure: string | null) {
    await withTx(this.ds, async (em) => {
      const refund = await forUpdate(em.createQueryBuilder(Refund, 'r').where('r.id = :id', { id: refundId })).getOne();
      if (!refund || refund.status === to) return;
      await applyTransition(em, REFUND_TRANSITIONS, { type: 'refund', id: refund.id, state: refund.status }, to, SYSTEM, failure);
      await em.update(Refund, refund.id, { status: to, failure });
    });
  }

  // ---- reading -------------------------------------------------------------------------------------

  private async orderOfResident(residentId: number, orderId: number): Promise<PaymentOrder> {
    const order = await this.ds.getRepository(PaymentOrder).findOne({ where: { id: orderId } });
    if (!order) throw new AppError('ORDER_NOT_FOUND');
    // the payer, or anyone currently bound to the account, may see it
    if (order.residentId !== residentId) {
      await this.o.accounts.assertBound(residentId, order.accountId).catch(() => {
        throw new AppError('ORDER_NOT_FOUND');
      });
    }
    return order;
  }

  async orderForResident(residentId: number, orderId: number): Promise<PaymentOrderView> {
    return this.view(await this.orderOfResident(residentId, orderId), false);
  }

  /** 缴费记录: paid orders of the resident's bound accounts (and their own), newest first. */
  async historyForResident(residentId: number): Promise<PaymentOrderView[]> {
    const bound = await this.o.accounts.listBound(residentId);
    const where: any[] = [{ residentId, status: 'paid' as OrderState }];
    if (bound.length) where.push({ accountId: In(bound.map((b) => b.accountId)), status: 'paid' as OrderState });
    const orders = await this.ds.getRepository(PaymentOrder).find({ where, order: { paidAt: 'DESC', id: 'DESC' }, take: 100 });
    return this.views(orders);
  }

  /** Finance: orders, newest first, optionally by status or number. */
  async listForStaff(q: { status?: OrderState; no?: string; page: number; pageSize: number }) {
    const qb = this.ds.getRepository(PaymentOrder).createQueryBuilder('o');
    if (q.status) qb.andWhere('o.status = :s', { s: q.status });
    if (q.no) qb.andWhere('(o.outTradeNo = :no OR o.transactionId = :no)', { no: q.no });
    const [rows, total] = await qb.orderBy('o.id', 'DESC').skip((q.page - 1) * q.pageSize).take(q.pageSize).getManyAndCount();
    return { items: await this.views(rows), total, page: q.page, pageSize: q.pageSize };
  }

  /** Paid orders with paidAt in [from, to), by id, a page at a time (admin exports, dashboard). */
  async paidBetween(from: Date, to: Date, afterId: number, limit: number): Promise<PaymentOrder[]> {
    return this.ds
      .getRepository(PaymentOrder)
      .createQueryBuilder('o')
      .where('o.paidAt >= :from AND o.paidAt < :to AND o.id > :afterId', { from, to, afterId })
      .orderBy('o.id', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Count and sum of payments credited in [from, to) (the staff dashboard); with staff, of their areas' accounts only. */
  async paidTotals(from: Date, to: Date, staff?: StaffPrincipal): Promise<{ count: number; sumFen: number }> {
    const qb = this.ds
      .getRepository(PaymentOrder)
      .createQueryBuilder('o')
      .select('COUNT(*)', 'n')
      .addSelect('COALESCE(SUM(o.amountFen), 0)', 'sum')
      .where('o.paidAt >= :from AND o.paidAt < :to AND o.duplicate = :dup', { from, to, dup: false });
    if (staff) this.o.accounts.scopeByAccountArea(qb, 'o.accountId', staff);
    const r = await qb.getRawOne<{ n: string | number; sum: string | number }>();
    return { count: Number(r?.n ?? 0), sumFen: Number(r?.sum ?? 0) };
  }

  async anomalies() {
    return this.ds.getRepository(PaymentAnomaly).find({ order: { id: 'DESC' }, take: 200 });
  }

  /** An account's latest paid orders, newest first (refunds of a temperature ruling). */
  async paidOrdersOfAccount(accountId: number, take: number): Promise<PaymentOrder[]> {
    return this.ds.getRepository(PaymentOrder).find({ where: { accountId, status: 'paid' }, order: { id: 'DESC' }, take });
  }

  async order(orderId: number): Promise<PaymentOrder | null> {
    return this.ds.getRepository(PaymentOrder).findOne({ where: { id: orderId } });
  }

  async ledger(orderId?: number) {
    return this.ds.getRepository(LedgerEntry).find({ where: orderId ? { orderId } : {}, order: { id: 'ASC' } });
  }

  private async view(order: PaymentOrder, withPayParams: boolean): Promise<PaymentOrderView> {
    const [v] = await this.views([order]);
    return { ...v!, requestPayment: withPayParams && order.status === 'pending' && order.payParams ? (order.payParams as any) : null };
  }

  private async views(orders: PaymentOrder[]): Promise<PaymentOrderView[]> {
    if (!orders.length) return [];
    const bills = await this.o.billing.present(
      (await Promise.all([...new Set(orders.map((o) => o.billId))].map((id) => this.o.billing.bill(id)))).filter((b) => !!b),
    );
    const billById = new Map(bills.map((b) => [b.id, b]));
    const refunds = await this.ds.getRepository(Refund).find({ where: { orderId: In(orders.map((o) => o.id)) }, order: { id: 'ASC' } });
    return orders.map((o) => {
      const b = billById.get(o.billId);
      return {
        id: o.id,
        outTradeNo: o.outTradeNo,
        transactionId: o.transactionId,
        billId: o.billId,
        accountNo: b?.accountNo ?? '',
        address: b?.address ?? '',
        season: b?.season ?? '',
        seasonLabel: b?.seasonLabel ?? '',
        description: o.description,
        amountFen: o.amountFen,
        status: o.status,
        duplicate: o.duplicate,
        expiresAt: o.expiresAt.toISOString(),
        createdAt: o.createdAt.toISOString(),
        paidAt: o.paidAt ? o.paidAt.toISOString() : null,
        refundedFen: o.refundedFen,
        refunds: refunds.filter((r) => r.orderId === o.id).map(refundView),
        requestPayment: null,
      };
    });
  }
}

export function refundView(r: Refund): RefundView {
  return {
    id: r.id,
    outRefundNo: r.outRefundNo,
    amountFen: r.amountFen,
    kind: r.kind,
    reason: r.reason,
    rulingRef: r.rulingRef,
    status: r.status,
    createdAt: r.createdAt.toISOString(),
    succeededAt: r.succeededAt ? r.succeededAt.toISOString() : null,
  };
}

/** HB + China time to the second + 8 random digits: 24 characters, unique and sortable. */
function newOutTradeNo(now: Date): string {
  const t = formatChinaTime(now, true).replace(/\D/g, '');
  return `HB${t}${crypto.randomInt(0, 100_000_000).toString().padStart(8, '0')}`;
}

function errInfo(err: unknown) {
  const e = err as any;
  return { ...errorSummary(err), status: e?.status };
}
