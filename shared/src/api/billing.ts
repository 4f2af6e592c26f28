import { z } from 'zod';
import { fen, int32, intId } from '../inputs';
import { BILL_KINDS, BILL_STATUSES, ORDER_STATES, REFUND_KINDS, REFUND_STATES } from '../billing';

export const BillLineView = z.object({ label: z.string(), detail: z.string(), amountFen: z.number().int() });

/** A bill as the resident sees it, priced for today. */
export const BillView = z.object({
  id: z.number(),
  accountId: z.number(),
  accountNo: z.string(),
  address: z.string(),
  season: z.string(),
  seasonLabel: z.string(),
  kind: z.enum(BILL_KINDS),
  status: z.enum(BILL_STATUSES),
  /** an earlier season's unpaid bill */
  arrears: z.boolean(),
  chargeFen: z.number().int(),
  discountFen: z.number().int(),
  lateFeeFen: z.number().int(),
  paidFen: z.number().int(),
  dueFen: z.number().int(),
  dueDate: z.string(),
  /** the season's late fee: per day and its cap in total, basis points of the unpaid charge */
  lateFeeRule: z.object({ dailyBp: z.number().int(), capBp: z.number().int() }),
  lines: z.array(BillLineView),
  paidAt: z.string().nullable(),
  /**
   * Arrears first: while earlier seasons of the same account are unpaid this bill can't be paid
   * alone (ARREARS_FIRST); the oldest of them, and what they come to together.
   */
  payFirst: z.object({ billId: z.number(), season: z.string(), seasonLabel: z.string(), dueFen: z.number().int() }).nullable(),
});
export type BillView = z.infer<typeof BillView>;

/**
 * A bill as the list shows it: the figures without their breakdown. The list page shows no lines
 * (the detail, GET /bills/:billId, does), so the busiest read neither reads nor sends them.
 */
export const BillSummary = BillView.omit({ lines: true });
export type BillSummary = z.infer<typeof BillSummary>;

export const BillList = z.object({
  items: z.array(BillSummary),
  /** sum of dueFen over unpaid bills */
  totalDueFen: z.number().int(),
});
export type BillList = z.infer<typeof BillList>;

export const CreatePaymentRequest = z.object({ billId: intId() });
export type CreatePaymentRequest = z.input<typeof CreatePaymentRequest>;

/** 一键缴清: one order for every unpaid bill of one account; billIds are the bills the page showed (re-checked). */
export const PayAllRequest = z.object({
  accountId: intId(),
  billIds: z.array(intId()).min(1, '请选择要缴的账单').max(50, '账单过多'),
});
export type PayAllRequest = z.input<typeof PayAllRequest>;

export const RequestPaymentParams = z.object({
  appId: z.string(),
  timeStamp: z.string(),
  nonceStr: z.string(),
  package: z.string(),
  signType: z.literal('RSA'),
  paySign: z.string(),
});

export const RefundView = z.object({
  id: z.number(),
  outRefundNo: z.string(),
  amountFen: z.number().int(),
  kind: z.enum(REFUND_KINDS),
  reason: z.string(),
  rulingRef: z.string().nullable(),
  status: z.enum(REFUND_STATES),
  createdAt: z.string(),
  succeededAt: z.string().nullable(),
  /** a refund of a pay-all order: how much comes off each bill (null: the order's one bill) */
  lines: z.array(z.object({ billId: z.number(), amountFen: z.number().int() })).nullable(),
});
export type RefundView = z.infer<typeof RefundView>;

export const PaymentOrderView = z.object({
  id: z.number(),
  outTradeNo: z.string(),
  transactionId: z.string().nullable(),
  /** the (oldest) bill the order pays */
  billId: z.number(),
  /** every bill the order pays, oldest first, with what it pays for each (one for an ordinary order; several for 一键缴清) */
  bills: z.array(z.object({ billId: z.number(), season: z.string(), seasonLabel: z.string(), amountFen: z.number().int() })),
  accountNo: z.string(),
  address: z.string(),
  season: z.string(),
  seasonLabel: z.string(),
  description: z.string(),
  amountFen: z.number().int(),
  status: z.enum(ORDER_STATES),
  /** the order was paid after its bill had been paid by another order: refunded automatically */
  duplicate: z.boolean(),
  expiresAt: z.string(),
  createdAt: z.string(),
  paidAt: z.string().nullable(),
  refundedFen: z.number().int(),
  refunds: z.array(RefundView),
  /** for Taro.requestPayment: only while pending, on create */
  requestPayment: RequestPaymentParams.nullable(),
});
export type PaymentOrderView = z.infer<typeof PaymentOrderView>;

export const PaymentList = z.object({ items: z.array(PaymentOrderView) });
export type PaymentList = z.infer<typeof PaymentList>;

/** Finance: refund all or part of a payment. */
export const RefundRequest = z
  .object({
    amountFen: fen({ min: 1 }),
    kind: z.enum(['ruling', 'other']).default('ruling'),
    reason: z.string().trim().min(2, '请填写退款原因').max(80, '退款原因不超过80字'),
    /** e.g. the three-party temperature measurement record number */
    rulingRef: z.string().trim().max(64).optional(),
    /** the bill the refund comes off (a ruling refunds its season's bill); by default a pay-all order's newest bill first */
    billId: z.number().int().positive().optional(),
  })
  .refine((v) => v?.kind !== 'ruling' || !!v.rulingRef, {
    path: ['rulingRef'],
    message: '测温裁定退费请填写裁定单号',
    // checked even when other fields are wrong: every problem is listed at once
    when: () => true,
  });
export type RefundRequest = z.input<typeof RefundRequest>;

export const SeasonView = z.object({
  id: z.number(),
  code: z.string(),
  label: z.string(),
  startDate: z.string(),
  endDate: z.string(),
  dueDate: z.string(),
  tariffs: z.object({ residential: z.number(), commercial: z.number() }),
  baseFeeRatioBp: z.number(),
  discountBp: z.number(),
  discountUntil: z.string().nullable(),
  lateFeeDailyBp: z.number(),
  lateFeeCapBp: z.number(),
});
export type SeasonView = z.infer<typeof SeasonView>;

/** Issuing a season's bills (出账): where it stands, and what one step did. */
export interface SeasonBillsStatus {
  season: string;
  label: string;
  /** households that get a bill (供热中, 已报停, 已封阀) */
  total: number;
  /** of those, how many have the season's bill (after this step) */
  billed: number;
  /** issued by this step (0 for a preview) */
  issued: number;
  /** still without a bill */
  remaining: number;
  /** the bills still to issue: full fee, base fee (stopped households), and their total */
  pending: { full: number; base: number; amountFen: number };
  /** households that get no bill, and why */
  skipped: { reason: string; count: number }[];
}

/** One step of 出账: at most `batch` bills (the page repeats until nothing remains, showing progress). */
export const IssueBillsQuery = z.object({ batch: int32({ min: 1, max: 5000, coerce: true, message: '每批数量应为1到5000之间的整数' }).optional() });
