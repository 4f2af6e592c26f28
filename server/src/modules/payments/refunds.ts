import { In, type EntityManager } from 'typeorm';
import { formatChinaTime, fenToYuanString, REFUND_TRANSITIONS, RefundRequest, type RefundState, type RefundView } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, insertRows, withTx } from '../../platform/db/data-source';
import { enqueue, outboxTopic, PermanentFailure } from '../../platform/outbox';
import { applyTransition, recordTransition, SYSTEM, type Actor } from '../../platform/state';
import { PayApiError, type Refund as WxRefund } from '../../wechat/pay';
import { LedgerEntry, PaymentOrder, PaymentOrderLine, Refund } from './entities';
import { errInfo, flag } from './support';
import { linesOf } from './pay-all';
import type { PaymentsOptions } from './service';

/** Refunds that take (or took) money back: what is refundable is what is left after them. */
const OPEN_REFUND = ['requested', 'processing', 'success', 'abnormal'] as const;

/** One paid order's part of one bill: what it paid for that bill and what of that is still refundable. */
export interface BillPayment {
  orderId: number;
  outTradeNo: string;
  description: string;
  paidAt: Date | null;
  /** the order's total (a pay-all order pays other bills too) */
  orderAmountFen: number;
  billId: number;
  paidFen: number;
  refundableFen: number;
  duplicate: boolean;
}

/**
 * Every paid order's part of one bill, newest first: orders of that bill alone, and pay-all
 * orders through their lines; each less the refunds already made or under way off that bill.
 */
export async function paidForBill(em: EntityManager, billId: number): Promise<BillPayment[]> {
  const viaLines = (await em.find(PaymentOrderLine, { select: { orderId: true }, where: { billId } })).map((l) => l.orderId);
  const where: any[] = [{ billId, billCount: 1, status: 'paid' }];
  if (viaLines.length) where.push({ id: In(viaLines), status: 'paid' });
  const orders = (await em.find(PaymentOrder, { where, order: { id: 'DESC' } })).filter((o) =>
    o.billCount <= 1 ? o.billId === billId : viaLines.includes(o.id),
  );
  if (!orders.length) return [];
  const lines = await linesOf(em, orders);
  const open = await em.find(Refund, { where: { orderId: In(orders.map((o) => o.id)), status: In([...OPEN_REFUND]) } });
  return orders.map((o) => {
    const mine = open.filter((r) => r.orderId === o.id);
    const paidFen = lines.get(o.id)!.find((l) => l.billId === billId)?.amountFen ?? 0;
    // an order of one bill: all its refunds come off that bill; a pay-all order: the refunds' lines for it
    const takenHere = mine.reduce((s, r) => s + (r.lines ? r.lines.filter((l) => l.billId === billId).reduce((t, l) => t + l.amountFen, 0) : r.amountFen), 0);
    const orderLeft = o.amountFen - mine.reduce((s, r) => s + r.amountFen, 0);
    return {
      orderId: o.id,
      outTradeNo: o.outTradeNo,
      description: o.description,
      paidAt: o.paidAt,
      orderAmountFen: o.amountFen,
      billId,
      paidFen,
      refundableFen: Math.max(0, Math.min(paidFen - takenHere, orderLeft)),
      duplicate: o.duplicate,
    };
  });
}

/** The outbox job that asks WeChat for a refund (same out_refund_no on every retry). */
export const REFUND_SUBMIT_TOPIC = outboxTopic<{ refundId: number }>('payments.refund.submit');

/**
 * Refunds of paid orders: by finance, by another module inside its own transaction (a stop
 * approved after the full fee was paid), automatically for a duplicate payment; submitted to
 * WeChat by the outbox, their outcome applied once (ledger, the order's refundedFen,
 * refund.succeeded).
 */
export class PaymentRefunds {
  constructor(private o: PaymentsOptions) {}

  /** Finance refunds all or part of a paid order, with a reason and the ruling it follows (off the bill named, if any). */
  async byStaff(staff: { staffId: number; roles: readonly string[] }, orderId: number, input: RefundRequest): Promise<RefundView> {
    const req = RefundRequest.parse(input);
    const refund = await withTx(this.o.ds, async (em) => {
      const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: orderId })).getOne();
      if (!order) throw new AppError('ORDER_NOT_FOUND');
      if (order.status !== 'paid') throw new AppError('REFUND_NOT_ALLOWED');
      // a "ruling" refund follows a recorded ruling of this household, not any typed number
      if (req.kind === 'ruling' && !(await this.o.rulingExists(order.accountId, req.rulingRef ?? ''))) {
        throw new AppError('RULING_NOT_RECORDED', { fields: [{ field: 'rulingRef', message: '未找到该户号的这条三方测温裁定' }] });
      }
      return this.createRefund(em, order, {
        amountFen: req.amountFen,
        kind: req.kind,
        reason: req.reason,
        rulingRef: req.rulingRef ?? null,
        requestedBy: staff.staffId,
        actor: { kind: 'staff', id: staff.staffId, as: staff.roles },
        billId: req.billId,
      });
    });
    // submit now for a quick answer; the outbox retries if WeChat is unreachable
    await this.submit(refund.id).catch((err) => this.o.log.warn({ refundId: refund.id, error: errInfo(err) }, 'refund submit deferred'));
    return refundView(await this.o.ds.getRepository(Refund).findOneByOrFail({ id: refund.id }));
  }

  /**
   * A refund another module decides inside its own transaction (a stop approved after the full
   * fee was paid): created with the order locked, submitted by the outbox.
   */
  async refundInTx(
    em: EntityManager,
    orderId: number,
    r: { amountFen: number; kind: Refund['kind']; reason: string; rulingRef?: string | null; actor: Actor; billId?: number },
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
      billId: r.billId,
    });
  }

  /**
   * A refund row inside the caller's transaction (the order locked), submitted by the outbox. A
   * refund of a pay-all order is split over its bills: given (`lines`: the duplicate part), the
   * bill named (`billId`: a stop's overpayment of that season), or else newest bill first (what a
   * resident paid last is what a refund takes back first; arrears stay paid the longest).
   */
  async createRefund(
    em: EntityManager,
    order: PaymentOrder,
    r: {
      amountFen: number;
      kind: Refund['kind'];
      reason: string;
      rulingRef: string | null;
      requestedBy: number | null;
      actor?: Actor;
      billId?: number;
      lines?: { billId: number; amountFen: number }[];
    },
  ): Promise<Refund> {
    const open = await em.find(Refund, { where: { orderId: order.id, status: In([...OPEN_REFUND]) } });
    const committed = open.reduce((s, x) => s + x.amountFen, 0);
    if (r.amountFen > order.amountFen - committed) {
      throw new AppError('REFUND_EXCEEDS_PAID', { refundableFen: order.amountFen - committed });
    }
    if (open.length >= 50) throw new AppError('REFUND_EXCEEDS_PAID', { reason: 'WeChat allows at most 50 partial refunds' });
    if (order.billCount <= 1 && r.billId !== undefined && r.billId !== order.billId) throw new AppError('REFUND_BILL_NOT_IN_ORDER', { billId: r.billId });
    const lines = order.billCount > 1 ? (r.lines ?? (await this.allocate(em, order, open, r.amountFen, r.billId))) : null;
    const row = em.create(Refund, {
      outRefundNo: `${order.outTradeNo}R${(await em.count(Refund, { where: { orderId: order.id } })) + 1}`,
      orderId: order.id,
      amountFen: r.amountFen,
      kind: r.kind,
      reason: r.reason,
      rulingRef: r.rulingRef,
      lines,
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

  /** How a refund of a pay-all order comes off its bills: the bill named, else newest bill first, each up to what it has left. */
  private async allocate(em: EntityManager, order: PaymentOrder, open: Refund[], amountFen: number, billId?: number) {
    const lines = await em.find(PaymentOrderLine, { where: { orderId: order.id }, order: { id: 'DESC' } });
    const taken = new Map<number, number>();
    for (const x of open) for (const l of x.lines ?? []) taken.set(l.billId, (taken.get(l.billId) ?? 0) + l.amountFen);
    const left = (l: PaymentOrderLine) => Number(l.amountFen) - (taken.get(l.billId) ?? 0);
    if (billId !== undefined) {
      const line = lines.find((l) => l.billId === billId);
      if (!line || left(line) < amountFen) throw new AppError('REFUND_BILL_NOT_IN_ORDER', { billId, refundableFen: line ? left(line) : 0 });
      return [{ billId, amountFen }];
    }
    const out: { billId: number; amountFen: number }[] = [];
    let rest = amountFen;
    for (const l of lines) {
      const take = Math.min(rest, left(l));
      if (take > 0) out.push({ billId: l.billId, amountFen: take });
      rest -= take;
    }
    return out;
  }

  /** Ask WeChat for the refund (same out_refund_no on every retry). */
  async submit(refundId: number): Promise<void> {
    const refund = await this.o.ds.getRepository(Refund).findOneByOrFail({ id: refundId });
    if (refund.status !== 'requested') return;
    const order = await this.o.ds.getRepository(PaymentOrder).findOneByOrFail({ id: refund.orderId });
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
    await this.applyResult({
      out_refund_no: result.out_refund_no,
      refund_status: result.status,
      refund_id: result.refund_id,
      success_time: result.success_time,
    });
  }

  /** A refund's outcome from its notification, the submit answer or a query. Re-entrant. */
  async applyResult(r: { out_refund_no: string; refund_status?: string; status?: string; refund_id?: string; success_time?: string }): Promise<RefundState> {
    const status = (r.refund_status ?? r.status ?? '').toUpperCase();
    const target: RefundState | null =
      status === 'SUCCESS' ? 'success' : status === 'PROCESSING' ? 'processing' : status === 'CLOSED' ? 'closed' : status === 'ABNORMAL' ? 'abnormal' : null;
    const now = this.o.clock();
    return withTx(this.o.ds, async (em) => {
      const refund = await forUpdate(em.createQueryBuilder(Refund, 'r').where('r.outRefundNo = :no', { no: r.out_refund_no })).getOne();
      if (!refund) {
        await flag(em, this.o.log, 'unknown_refund', r.out_refund_no, { refund: r });
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
        // one entry per bill it comes off (a refund of a pay-all order), under one trade ref
        const tradeRef = `refund:${refund.outRefundNo}`;
        await insertRows(
          em,
          LedgerEntry,
          (refund.lines ?? [{ billId: order.billId, amountFen: refund.amountFen }]).map((l) => ({
            ref: refund.lines ? `${tradeRef}:${l.billId}` : tradeRef,
            tradeRef,
            kind: 'refund' as const,
            amountFen: -l.amountFen,
            orderId: order.id,
            refundId: refund.id,
            billId: l.billId,
            accountId: order.accountId,
            outTradeNo: order.outTradeNo,
            transactionId: order.transactionId,
            at: refund.succeededAt!,
          })),
        );
        await em.update(PaymentOrder, order.id, { refundedFen: order.refundedFen + refund.amountFen });
        order.refundedFen += refund.amountFen;
        await this.o.events.emit(em, 'refund.succeeded', [
          { refundId: refund.id, orderId: order.id, outRefundNo: refund.outRefundNo, amountFen: refund.amountFen },
        ]);
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
    await withTx(this.o.ds, async (em) => {
      const refund = await forUpdate(em.createQueryBuilder(Refund, 'r').where('r.id = :id', { id: refundId })).getOne();
      if (!refund || refund.status === to) return;
      await applyTransition(em, REFUND_TRANSITIONS, { type: 'refund', id: refund.id, state: refund.status }, to, SYSTEM, failure);
      await em.update(Refund, refund.id, { status: to, failure });
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
    lines: r.lines ?? null,
  };
}
