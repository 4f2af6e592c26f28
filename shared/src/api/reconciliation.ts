import { z } from 'zod';
import { isoDate, seasonCode } from '../inputs';
import { REFUND_STATES } from '../billing';

/**
 * Daily reconciliation of WeChat Pay trade bills against the ledger (finance).
 * A day: 未对账 (never run, bill not ready, fetch failed), 有差异 (open discrepancies), 已平 (closed).
 */
export const RECON_DAY_STATUSES = ['none', 'not_ready', 'failed', 'differences', 'balanced'] as const;
/** `none` only in views (a day never run) */
export type ReconDayStatus = (typeof RECON_DAY_STATUSES)[number];
export const RECON_DAY_STATUS_LABELS: Record<ReconDayStatus, string> = {
  none: '未对账',
  not_ready: '未对账',
  failed: '未对账',
  differences: '有差异',
  balanced: '已平',
};

/**
 * surplus 长款: WeChat has it, the ledger does not; shortage 短款: the ledger has it, WeChat does not;
 * amount_mismatch / refund_mismatch: both have it with different figures (or a refund WeChat made
 * that we cannot match); duplicate: the same trade twice in the bill; totals_mismatch: the bill's
 * rows do not add up to its own summary; double_payment: a bill paid twice whose second payment
 * has not been (fully) refunded — refunded pairs are shown, not discrepancies.
 */
export const DISCREPANCY_KINDS = ['surplus', 'shortage', 'amount_mismatch', 'refund_mismatch', 'duplicate', 'totals_mismatch', 'double_payment'] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];
export const DISCREPANCY_KIND_LABELS: Record<DiscrepancyKind, string> = {
  surplus: '长款',
  shortage: '短款',
  amount_mismatch: '金额不符',
  refund_mismatch: '退款不符',
  duplicate: '重复',
  totals_mismatch: '汇总不符',
  double_payment: '重复支付未退回',
};

/** How finance settled a difference; `cleared_on_rerun` is the system's, when a re-run no longer finds it. */
export const RESOLUTION_TYPES = ['ledger_corrected', 'wechat_corrected', 'refunded', 'written_off', 'timing', 'no_action', 'cleared_on_rerun'] as const;
export type ResolutionType = (typeof RESOLUTION_TYPES)[number];
export const RESOLUTION_TYPE_LABELS: Record<ResolutionType, string> = {
  ledger_corrected: '已调整台账',
  wechat_corrected: '微信侧已更正',
  refunded: '已退款',
  written_off: '核销',
  timing: '跨日时间差',
  no_action: '无需处理',
  cleared_on_rerun: '重新对账后已消除',
};

/** "2026-11-20", a real calendar date. */
export const BillDate = isoDate();

export const BillDateParams = z.object({ date: BillDate });

/** One difference: its day and its key (`pay:<out_trade_no>`, …; encoded in the path). */
export const DiscrepancyParams = z.object({ date: BillDate, key: z.string().min(1).max(100) });

export const RunReconRequest = z.object({ date: BillDate });
export type RunReconRequest = z.input<typeof RunReconRequest>;

/** from/to (default: the 31 days up to yesterday), or a heating season "2026-2027" (company rules' season start/end, up to today) */
export const ReconDaysQuery = z.object({
  from: BillDate.optional(),
  to: BillDate.optional(),
  season: seasonCode().optional(),
});
export type ReconDaysQuery = z.infer<typeof ReconDaysQuery>;

/** XLSX export of one day (date) or a range (from..to, at most 366 days) */
export const ReconExportQuery = z
  .object({ date: BillDate.optional(), from: BillDate.optional(), to: BillDate.optional() })
  .refine((q) => !!q.date || (!!q.from && !!q.to), { message: '请指定日期或起止日期', path: ['date'] });
export type ReconExportQuery = z.infer<typeof ReconExportQuery>;

export const ResolveDiscrepancyRequest = z.object({
  resolution: z.enum(RESOLUTION_TYPES.filter((r) => r !== 'cleared_on_rerun') as [ResolutionType, ...ResolutionType[]]),
  note: z.string().trim().min(2, '请填写处理说明').max(500),
});
export type ResolveDiscrepancyRequest = z.input<typeof ResolveDiscrepancyRequest>;

/** Sums over one side; fees in fen (rounded from WeChat's 1/100000 yuan); the ledger side has no fees (0). */
export const ReconTotals = z.object({
  /** bill rows / ledger entries */
  rowCount: z.number().int(),
  paymentCount: z.number().int(),
  paymentFen: z.number().int(),
  refundCount: z.number().int(),
  refundFen: z.number().int(),
  feeFen: z.number().int(),
  netFen: z.number().int(),
});
export type ReconTotals = z.infer<typeof ReconTotals>;

/** The bill's own summary section (总交易单数, 应结订单总金额, 退款总金额, 手续费总金额, 订单总金额). */
export const BillSummaryTotals = z.object({
  rowCount: z.number().int(),
  paymentFen: z.number().int(),
  refundFen: z.number().int(),
  feeFen: z.number().int(),
  orderFen: z.number().int(),
});
export type BillSummaryTotals = z.infer<typeof BillSummaryTotals>;

export const ReconClassCounts = z.object({
  matched: z.number().int(),
  healed: z.number().int(),
  inTransit: z.number().int(),
  surplus: z.number().int(),
  shortage: z.number().int(),
  amount_mismatch: z.number().int(),
  refund_mismatch: z.number().int(),
  duplicate: z.number().int(),
  totals_mismatch: z.number().int(),
  double_payment: z.number().int(),
  /** bills paid twice that day (each shown as a pair with its refund) */
  duplicatePaid: z.number().int(),
});
export type ReconClassCounts = z.infer<typeof ReconClassCounts>;

export const HealedItem = z.object({ ref: z.string(), outTradeNo: z.string(), amountFen: z.number().int(), result: z.string() });
export type HealedItem = z.infer<typeof HealedItem>;

/**
 * A bill paid twice (two phones; or at the counter while a 一键缴清 payment was open): how it was
 * settled first, the second payment (paid that day, in WeChat's bill; of a 一键缴清 order, the part
 * that paid this bill) and the automatic refund that cancels it. refunded: cancelled in full;
 * refunding: asked, not yet confirmed; open: not (fully) refunded — also a `double_payment` discrepancy.
 */
export const DUPLICATE_PAIR_STATES = ['refunded', 'refunding', 'open'] as const;
export type DuplicatePairState = (typeof DUPLICATE_PAIR_STATES)[number];
export const DUPLICATE_PAIR_STATE_LABELS: Record<DuplicatePairState, string> = { refunded: '已原路退回', refunding: '退款中', open: '未退回' };
const PairPayment = z.object({
  orderId: z.number(),
  outTradeNo: z.string(),
  transactionId: z.string().nullable(),
  amountFen: z.number().int(),
  paidAt: z.string().nullable(),
});
export const DUPLICATE_KEPT_VIA = ['wechat', 'counter'] as const;
export const DUPLICATE_KEPT_VIA_LABELS: Record<(typeof DUPLICATE_KEPT_VIA)[number], string> = { wechat: '微信支付', counter: '柜台缴费' };
export const DuplicatePaymentPair = z.object({
  billId: z.number(),
  accountId: z.number(),
  /** how the bill was settled first (null: not known, the bill is not paid any more) */
  keptVia: z.enum(DUPLICATE_KEPT_VIA).nullable(),
  /** the WeChat payment that settled it first (keptVia 'wechat') */
  kept: PairPayment.nullable(),
  /** when it was paid at the counter (keptVia 'counter') */
  counterPaidAt: z.string().nullable(),
  duplicate: PairPayment,
  refund: z
    .object({
      outRefundNo: z.string(),
      amountFen: z.number().int(),
      status: z.enum(REFUND_STATES),
      statusLabel: z.string(),
      succeededAt: z.string().nullable(),
    })
    .nullable(),
  /** duplicate minus refunded, fen (0 once cancelled) */
  outstandingFen: z.number().int(),
  state: z.enum(DUPLICATE_PAIR_STATES),
  stateLabel: z.string(),
});
export type DuplicatePaymentPair = z.infer<typeof DuplicatePaymentPair>;

export const ReconDayView = z.object({
  billDate: z.string(),
  status: z.enum(RECON_DAY_STATUSES),
  statusLabel: z.string(),
  closed: z.boolean(),
  /** the bill's rows as streamed */
  wechat: ReconTotals.nullable(),
  /** the bill's own summary section */
  summary: BillSummaryTotals.nullable(),
  summaryMatches: z.boolean().nullable(),
  ledger: ReconTotals.nullable(),
  classes: ReconClassCounts.nullable(),
  healed: z.array(HealedItem),
  openDiscrepancies: z.number().int(),
  totalDiscrepancies: z.number().int(),
  /** WeChat had no bill for the day (no trades) */
  emptyBill: z.boolean(),
  billHash: z.string().nullable(),
  billBytes: z.number().int().nullable(),
  runs: z.number().int(),
  lastRunAt: z.string().nullable(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  closedAt: z.string().nullable(),
});
export type ReconDayView = z.infer<typeof ReconDayView>;

/** A difference is named by its day and its key (unique per day). */
export const DiscrepancyView = z.object({
  billDate: z.string(),
  key: z.string(),
  kind: z.enum(DISCREPANCY_KINDS),
  kindLabel: z.string(),
  outTradeNo: z.string().nullable(),
  outRefundNo: z.string().nullable(),
  /** WeChat's side (the bill row, parsed) and ours (ledger entry / order), null when a side has nothing */
  wechat: z.record(z.string(), z.unknown()).nullable(),
  ledger: z.record(z.string(), z.unknown()).nullable(),
  diffFen: z.number().int(),
  status: z.enum(['open', 'resolved']),
  resolution: z.enum(RESOLUTION_TYPES).nullable(),
  note: z.string().nullable(),
  resolvedBy: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  createdAt: z.string(),
});
export type DiscrepancyView = z.infer<typeof DiscrepancyView>;

export const ReconDayDetail = ReconDayView.extend({ discrepancies: z.array(DiscrepancyView), duplicatePayments: z.array(DuplicatePaymentPair) });
export type ReconDayDetail = z.infer<typeof ReconDayDetail>;
