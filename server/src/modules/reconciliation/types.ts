import type { DiscrepancyKind, ReconClassCounts, ReconTotals } from '@heat-butler/shared';
import type { LedgerEntry } from '../payments';
import { microToFen, type BillRow } from './csv';

/** One difference found by a run, before it is written (unique per day and key). */
export interface Draft {
  key: string;
  kind: DiscrepancyKind;
  outTradeNo: string | null;
  outRefundNo: string | null;
  wechat: Record<string, unknown> | null;
  ledger: Record<string, unknown> | null;
  diffFen: number;
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

export const emptyTotals = (): ReconTotals => ({ rowCount: 0, paymentCount: 0, paymentFen: 0, refundCount: 0, refundFen: 0, feeFen: 0, netFen: 0 });
export const emptyClasses = (): ReconClassCounts => ({
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

/** The ledger ref a bill row should match: `pay:<out_trade_no>` / `refund:<out_refund_no>`. */
export const refOf = (r: BillRow) => (r.kind === 'payment' ? `pay:${r.outTradeNo}` : `refund:${r.outRefundNo}`);
export const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The bill row as finance sees it in a discrepancy. */
export function wechatSide(r: BillRow): Record<string, unknown> {
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

export function ledgerSide(e: LedgerEntry): Record<string, unknown> {
  return {
    ref: e.ref,
    tradeRef: e.tradeRef,
    kind: e.kind,
    amountFen: e.amountFen,
    orderId: e.orderId,
    billId: e.billId,
    transactionId: e.transactionId,
    at: e.at.toISOString(),
  };
}
