import { In, type DataSource, type EntityManager } from 'typeorm';
import {
  seasonLabel,
  type OrderState,
  type PayAllRequest,
  type PaymentOrderView,
  type RefundRequest,
  type RefundState,
  type RefundView,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import type { Events } from '../../platform/events';
import type { Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { StaffPrincipal } from '../../platform/auth';
import type { PayClient, Transaction } from '../../wechat/pay';
import type { AccountsService } from '../accounts';
import type { BillingService } from '../billing';
import type { NotificationsService } from '../notifications';
import { LedgerEntry, PaymentAnomaly, PaymentOrder, Refund } from './entities';
import { LedgerQueries } from './ledger-queries';
import { OrderCrediting } from './crediting';
import { paidForBill, PaymentRefunds, refundView, type BillPayment } from './refunds';
import { OrderSweeper } from './sweeper';
import { linesOf, PayAllOrders, pendingCovering } from './pay-all';
import { errInfo, savePendingOrder } from './support';

export interface PaymentsOptions {
  ds: DataSource;
  pay: PayClient;
  billing: BillingService;
  accounts: AccountsService;
  notifications: NotificationsService;
  /** emits payment.credited and refund.succeeded (platform/events.ts) */
  events: Events;
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
  /** is `ref` a recorded ruling of this account (the measurements' three-party rulings)? A refund of kind "ruling" must cite one */
  rulingExists: (accountId: number, ref: string) => Promise<boolean>;
}

/** What a payment notification, a query or the sweeper found out; one path applies it. */
export type CreditResult = 'credited' | 'duplicate' | 'already' | 'flagged' | 'not_paid';

/**
 * WeChat Pay for bills: orders, the one exactly-once crediting path (notification, query, sweeper
 * and reconciliation all use it: crediting.ts), automatic refund of duplicate payments, finance
 * refunds (refunds.ts), the sweeper (sweeper.ts), ledger. Its events (payment.credited,
 * refund.succeeded) are emitted inside its transactions; other modules react after commit.
 */
export class PaymentsService {
  private ttlMs: number;
  private crediting: OrderCrediting;
  private refunds: PaymentRefunds;
  private sweeper: OrderSweeper;
  private payAll: PayAllOrders;

  /** Read-only ledger, order and refund queries for reconciliation. */
  readonly ledgerQueries: LedgerQueries;

  constructor(private o: PaymentsOptions) {
    this.ledgerQueries = new LedgerQueries(o.ds, o.billing);
    this.ttlMs = (o.orderTtlMinutes ?? 30) * 60_000;
    this.refunds = new PaymentRefunds(o);
    this.crediting = new OrderCrediting(o, this.refunds);
    this.sweeper = new OrderSweeper(o, this.crediting, this.refunds);
    this.payAll = new PayAllOrders(
      o,
      this.sweeper,
      this.ttlMs,
      (r, billId) => this.create(r, billId),
      (order) => this.prepay(order),
      (order) => this.view(order, true),
    );
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
    // the payer's own pending 一键缴清 covering this bill is replaced by this order (another payer's refuses it, below)
    for (const old of await pendingCovering(this.ds.manager, [bill.id], now, true)) {
      if (old.residentId === resident.residentId) await this.sweeper.closeAtWechat(old);
    }

    const existing = await this.ds.getRepository(PaymentOrder).findOne({ where: { pendingKey } });
    if (existing) {
      if (existing.payParams && existing.expiresAt.getTime() - now.getTime() > 60_000) return this.view(existing, true);
      // about to expire, or prepay never succeeded: close it and start again
      await this.sweeper.closeAtWechat(existing);
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
        const payAll = await pendingCovering(em, [bill.id], now, true);
        if (payAll.length)
          throw new AppError('BILL_IN_PENDING_ORDER', { orders: payAll.map((x) => ({ outTradeNo: x.outTradeNo, expiresAt: x.expiresAt.toISOString() })) });
        const quote = await this.o.billing.quoteFor(em, locked, now);
        if (quote.dueFen <= 0) throw new AppError('BILL_NOTHING_DUE');
        return savePendingOrder(em, now, this.ttlMs, resident, {
          billId: bill.id,
          billCount: 1,
          accountId: bill.accountId,
          description: `${seasonLabel(season.code)}热费-户号${account?.accountNo ?? ''}`,
          amountFen: quote.dueFen,
          discountFen: quote.discountFen,
          lateFeeFen: quote.lateFeeFen,
          pendingKey,
        });
      });
    } catch (err) {
      // a concurrent tap created it first: answer with that one
      if (isUniqueViolation(err)) {
        const other = await this.ds.getRepository(PaymentOrder).findOne({ where: { pendingKey } });
        if (other?.payParams) return this.view(other, true);
        throw new AppError('PAYMENT_IN_PROGRESS');
      }
      throw err;
    }

    return this.prepay(order);
  }

  /**
   * 一键缴清: one order for every unpaid bill of an account, oldest first (pay-all.ts). With one
   * bill left it is the ordinary order of that bill.
   */
  createAll(resident: { residentId: number; openid: string }, req: PayAllRequest): Promise<PaymentOrderView> {
    return this.payAll.create(resident, req);
  }

  /** Ask WeChat for the prepay id of a new order; nothing charged if it fails (the order closes). */
  private async prepay(order: PaymentOrder): Promise<PaymentOrderView> {
    try {
      const params = await this.o.pay.jsapiPrepay({
        description: order.description,
        outTradeNo: order.outTradeNo,
        amountFen: order.amountFen,
        openid: order.openid,
        timeExpire: order.expiresAt,
        notifyUrl: this.o.notifyUrl,
        attach: order.billCount > 1 ? `account:${order.accountId}` : `bill:${order.billId}`,
      });
      const { prepayId: _p, ...payParams } = params;
      await this.ds.getRepository(PaymentOrder).update(order.id, { payParams });
      order.payParams = payParams;
    } catch (err) {
      this.o.log.warn({ outTradeNo: order.outTradeNo, error: errInfo(err) }, 'jsapi prepay failed');
      // nothing was charged: the order closes so the resident can try again
      await this.sweeper.markClosed(order.id, 'prepay failed');
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
    if (eventType === 'TRANSACTION.SUCCESS') return this.crediting.creditQueued(resource as Transaction);
    if (eventType.startsWith('REFUND.')) return this.refunds.applyResult(resource);
    this.o.log.info({ eventType }, 'notification type ignored');
    return 'ignored';
  }

  /** THE crediting path for one transaction (query, sweeper, reconciliation): crediting.ts. */
  credit(tx: Transaction, by: PaymentOrder['creditedBy'] & string): Promise<CreditResult> {
    return this.crediting.credit(tx, by);
  }

  /** Notifications arriving together are credited together (group commit): crediting.ts. */
  creditQueued(tx: Transaction): Promise<CreditResult> {
    return this.crediting.creditQueued(tx);
  }

  /** Mark orders paid exactly once, settle their bills, emit payment.credited: crediting.ts. */
  creditMany(txs: Transaction[], by: PaymentOrder['creditedBy'] & string): Promise<CreditResult[]> {
    return this.crediting.creditMany(txs, by);
  }

  /** Query orders still pending, credit or close them, follow up refunds: sweeper.ts. */
  sweep(now: Date = this.o.clock()): Promise<{ credited: number; closed: number; refunds: number }> {
    return this.sweeper.sweep(now);
  }

  // ---- refunds (refunds.ts) -------------------------------------------------------------------------

  /**
   * Finance refunds all or part of a paid order, with a reason and the ruling it follows;
   * `billId`: off that bill of the order (REFUND_BILL_NOT_IN_ORDER when the order did not pay it).
   */
  refund(staff: { staffId: number; roles: readonly string[] }, orderId: number, input: RefundRequest): Promise<RefundView> {
    return this.refunds.byStaff(staff, orderId, input);
  }

  /**
   * A refund another module decides inside its own transaction (a stop approved after the full
   * fee was paid): created with the order locked, submitted by the outbox. `billId`: the bill it
   * is for (taken off that bill when the order paid several).
   */
  refundInTx(
    em: EntityManager,
    orderId: number,
    r: { amountFen: number; kind: Refund['kind']; reason: string; rulingRef?: string | null; actor: Actor; billId?: number },
  ): Promise<Refund> {
    return this.refunds.refundInTx(em, orderId, r);
  }

  /** Ask WeChat for the refund (same out_refund_no on every retry); the outbox job's handler. */
  submitRefund(refundId: number): Promise<void> {
    return this.refunds.submit(refundId);
  }

  /** A refund's outcome from its notification, the submit answer or a query. Re-entrant. */
  applyRefundResult(r: { out_refund_no: string; refund_status?: string; status?: string; refund_id?: string; success_time?: string }): Promise<RefundState> {
    return this.refunds.applyResult(r);
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
    const [rows, total] = await qb
      .orderBy('o.id', 'DESC')
      .skip((q.page - 1) * q.pageSize)
      .take(q.pageSize)
      .getManyAndCount();
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

  /**
   * What an account paid for its bill of one season, order by order (newest first; a pay-all
   * order counts only its line for that bill), with what of it is still refundable: a ruling's
   * refund is of the season measured (Changchun 000). Empty without such a season or bill.
   */
  async paidForSeason(accountId: number, seasonCode: string): Promise<BillPayment[]> {
    const season = await this.o.billing.seasonByCode(seasonCode).catch((err) => {
      if (err instanceof AppError && err.code === 'SEASON_NOT_FOUND') return null;
      throw err;
    });
    const bill = season && (await this.o.billing.billFor(accountId, season.id));
    return bill ? paidForBill(this.ds.manager, bill.id) : [];
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
    const lines = await linesOf(this.ds.manager, orders);
    const billIds = [...new Set([...lines.values()].flat().map((l) => l.billId))];
    const bills = await this.o.billing.present((await Promise.all(billIds.map((id) => this.o.billing.bill(id)))).filter((b) => !!b));
    const billById = new Map(bills.map((b) => [b.id, b]));
    const refunds = await this.ds.getRepository(Refund).find({ where: { orderId: In(orders.map((o) => o.id)) }, order: { id: 'ASC' } });
    return orders.map((o) => {
      const b = billById.get(o.billId);
      return {
        id: o.id,
        outTradeNo: o.outTradeNo,
        transactionId: o.transactionId,
        billId: o.billId,
        bills: lines.get(o.id)!.map((l) => ({
          billId: l.billId,
          season: billById.get(l.billId)?.season ?? '',
          seasonLabel: billById.get(l.billId)?.seasonLabel ?? '',
          amountFen: l.amountFen,
        })),
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
