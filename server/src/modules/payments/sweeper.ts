import { LessThan } from 'typeorm';
import { ORDER_TRANSITIONS } from '@heat-butler/shared';
import { forUpdate, withTx } from '../../platform/db/data-source';
import { applyTransition, SYSTEM } from '../../platform/state';
import { PayApiError } from '../../wechat/pay';
import { PaymentOrder, Refund } from './entities';
import type { OrderCrediting } from './crediting';
import type { PaymentRefunds } from './refunds';
import type { PaymentsOptions } from './service';
import { errInfo } from './support';

/** Orders that never heard back: queried, credited or closed; refunds followed up. */
export class OrderSweeper {
  private sweepAfterMs: number;

  constructor(
    private o: PaymentsOptions,
    private crediting: OrderCrediting,
    private refunds: PaymentRefunds,
  ) {
    this.sweepAfterMs = (o.sweepAfterMinutes ?? 5) * 60_000;
  }

  // ---- the sweeper ---------------------------------------------------------------------------------

  /**
   * Query orders still pending after a few minutes: credit the paid ones (a lost notification),
   * close the expired ones; resubmit refunds WeChat never accepted, query those still processing.
   */
  async sweep(now: Date = this.o.clock()): Promise<{ credited: number; closed: number; refunds: number }> {
    const stats = { credited: 0, closed: 0, refunds: 0 };
    const pending = await this.o.ds.getRepository(PaymentOrder).find({
      where: { status: 'pending', createdAt: LessThan(new Date(now.getTime() - this.sweepAfterMs)) },
      order: { id: 'ASC' },
      take: 200,
    });
    for (const order of pending) {
      try {
        const tx = await this.o.pay.queryByOutTradeNo(order.outTradeNo);
        if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') {
          if ((await this.crediting.credit(tx, 'sweep')) !== 'flagged') stats.credited++;
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
    const refunds = await this.o.ds.getRepository(Refund).find({
      where: [
        { status: 'requested', createdAt: LessThan(new Date(now.getTime() - 60_000)) },
        { status: 'processing', updatedAt: LessThan(new Date(now.getTime() - 60_000)) },
      ],
      take: 200,
    });
    for (const refund of refunds) {
      try {
        if (refund.status === 'requested') await this.refunds.submit(refund.id);
        else await this.refunds.applyResult(await this.o.pay.queryRefund(refund.outRefundNo));
        stats.refunds++;
      } catch (err) {
        this.o.log.warn({ outRefundNo: refund.outRefundNo, error: errInfo(err) }, 'sweep: refund follow-up failed');
      }
    }
    return stats;
  }

  /** Close at WeChat, then locally; a paid order found on the way is credited instead. */
  async closeAtWechat(order: PaymentOrder): Promise<boolean> {
    if (order.payParams) {
      try {
        await this.o.pay.close(order.outTradeNo);
      } catch (err) {
        if (err instanceof PayApiError && err.status !== null && err.status < 500 && err.code !== 'ORDER_NOT_EXIST') {
          // most likely paid in the meantime: find out and credit
          const tx = await this.o.pay.queryByOutTradeNo(order.outTradeNo);
          if (tx.trade_state === 'SUCCESS' || tx.trade_state === 'REFUND') {
            await this.crediting.credit(tx, 'sweep');
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

  async markClosed(orderId: number, reason: string): Promise<void> {
    await withTx(this.o.ds, async (em) => {
      const order = await forUpdate(em.createQueryBuilder(PaymentOrder, 'o').where('o.id = :id', { id: orderId })).getOne();
      if (!order || order.status !== 'pending') return;
      await applyTransition(em, ORDER_TRANSITIONS, { type: 'payment_order', id: order.id, state: order.status }, 'closed', SYSTEM, reason);
      await em.update(PaymentOrder, order.id, { status: 'closed', pendingKey: null });
    });
  }
}
