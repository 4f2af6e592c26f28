/**
 * Self-healing: a bill row the ledger lacks because a notification never arrived is not a
 * difference for a human. Ask WeChat for the truth and apply it through the one exactly-once
 * path payments uses for notifications; the classification only decides who is a candidate.
 */
import type { HealedItem } from '@heat-butler/shared';
import type { PayClient } from '../../wechat/pay';
import type { PaymentsService } from '../payments';

export type HealOutcome = { healed: HealedItem } | { healed: null; result: string };

export class Healer {
  constructor(private o: { pay: PayClient; payments: PaymentsService }) {}

  /** 长款 of a lost payment notification (the order is still pending): query and credit. */
  async payment(ref: string, outTradeNo: string, amountFen: number): Promise<HealOutcome> {
    let result: string;
    try {
      result = await this.o.payments.credit(await this.o.pay.queryByOutTradeNo(outTradeNo), 'recon');
    } catch (err) {
      result = `error: ${(err as Error)?.message ?? err}`;
    }
    if (result === 'credited' || result === 'duplicate' || result === 'already') return { healed: { ref, outTradeNo, amountFen, result } };
    return { healed: null, result };
  }

  /** A refund WeChat finished whose notification never came: query and apply it like a notification. */
  async refund(ref: string, outTradeNo: string, outRefundNo: string, refundFen: number): Promise<HealOutcome> {
    let state: string;
    try {
      const q = await this.o.pay.queryRefund(outRefundNo);
      state = await this.o.payments.applyRefundResult({
        out_refund_no: q.out_refund_no,
        status: q.status,
        refund_id: q.refund_id,
        success_time: q.success_time,
      });
    } catch (err) {
      state = `error: ${(err as Error)?.message ?? err}`;
    }
    if (state === 'success') return { healed: { ref, outTradeNo, amountFen: -refundFen, result: 'refund_success' } };
    return { healed: null, result: state };
  }

  /** The ledger ids a heal just wrote (one per bill of the order; so the bill counts them as matched). */
  idsOf(ref: string): Promise<number[]> {
    return this.o.payments.ledgerQueries.idsOfRef(ref);
  }
}
