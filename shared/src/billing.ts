/**
 * Bills and payments: pure rules used by the BFF (to charge) and the mini-program (to explain).
 * Money is integer fen; dates are China calendar dates (YYYY-MM-DD).
 */
import { z } from 'zod';
import { isoDate, MAX_TARIFF_FEN, seasonCode } from './inputs';

/** fen per m² per season: more than 0, at most ¥200/㎡ */
const Tariff = z.number('请填写单价').int('单价应为整数（分）').min(1, '单价必须大于0').max(MAX_TARIFF_FEN, `单价不能超过${MAX_TARIFF_FEN / 100}元/㎡`);
import { applyBasisPoints, formatFen, type Fen } from './money';
import type { AccountUse } from './account';
import type { TransitionTable } from './state-machine';

const IsoDate = isoDate();

/** A heating season and its money rules (data an admin sets, not code). */
export const SeasonInput = z
  .object({
    code: seasonCode(),
    startDate: IsoDate,
    endDate: IsoDate,
    /** bills are due by this date; late fees run from the day after */
    dueDate: IsoDate,
    /** fen per m² of heated area per season, by use */
    tariffs: z.object({ residential: Tariff, commercial: Tariff }),
    /** base fee of a stopped household, basis points of the full fee (3000 = 30%) */
    baseFeeRatioBp: z.number().int().min(0).max(10000),
    /** early-payment discount: basis points off, for payments made on or before discountUntil */
    discountBp: z.number().int().min(0).max(5000).default(0),
    discountUntil: IsoDate.nullable().default(null),
    /** late fee per day, basis points of the charge (20 = 2‰), capped at lateFeeCapBp in total */
    lateFeeDailyBp: z.number().int().min(0).max(20).default(0),
    lateFeeCapBp: z.number().int().min(0).max(10000).default(0),
  })
  .superRefine((s, ctx) => {
    if (s.endDate <= s.startDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: '结束日期应晚于开始日期' });
    if (s.discountBp > 0 && !s.discountUntil) ctx.addIssue({ code: 'custom', path: ['discountUntil'], message: '设置了优惠比例，请填写优惠截止日期' });
  });
export type SeasonInput = z.input<typeof SeasonInput>;
export type SeasonRules = z.output<typeof SeasonInput>;

export function seasonLabel(code: string): string {
  return `${code.replace('-', '—')}采暖季`;
}

export const BILL_KINDS = ['full', 'base'] as const;
export type BillKind = (typeof BILL_KINDS)[number];
export const BILL_KIND_LABEL: Record<BillKind, string> = { full: '供热', base: '报停（基础热费）' };

export const BILL_STATUSES = ['unpaid', 'paid', 'void'] as const;
export type BillStatus = (typeof BILL_STATUSES)[number];
export const BILL_STATUS_LABEL: Record<BillStatus, string> = { unpaid: '待缴费', paid: '已缴清', void: '已作废' };

export interface BillLine {
  label: string;
  detail: string;
  amountFen: Fen;
}

/** The season charge before discounts and late fees: area × price, or the base fee when stopped. */
export function seasonCharge(input: { heatedArea: number; use: AccountUse; kind: BillKind; season: Pick<SeasonRules, 'tariffs' | 'baseFeeRatioBp'> }) {
  const price = input.season.tariffs[input.use];
  // heatedArea is hundredths of m²: fee = area/100 × price, rounded half up to the fen
  const full = Math.floor((input.heatedArea * price + 50) / 100);
  const lines: BillLine[] = [
    {
      label: '供热费',
      detail: `${(input.heatedArea / 100).toFixed(2)}㎡ × ${formatFen(price, { symbol: false })}元/㎡`,
      amountFen: full,
    },
  ];
  if (input.kind === 'full') return { chargeFen: full, lines };
  const base = applyBasisPoints(full, input.season.baseFeeRatioBp);
  lines.push({
    label: '报停减免',
    detail: `报停期间按${input.season.baseFeeRatioBp / 100}%收取基础热费`,
    amountFen: base - full,
  });
  return { chargeFen: base, lines };
}

/** Whole days from `a` to `b` (calendar dates, b after a → positive). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(b + 'T00:00:00Z') - Date.parse(a + 'T00:00:00Z')) / 86_400_000);
}

export interface Quote {
  chargeFen: Fen;
  discountFen: Fen;
  lateFeeFen: Fen;
  paidFen: Fen;
  /** what the resident pays now */
  dueFen: Fen;
  lines: BillLine[];
}

/**
 * What a bill costs on a given China date: its charge, minus the early-payment discount while it
 * runs, plus the late fee (daily rate, capped) after the due date, minus what was already paid.
 */
export function quoteBill(
  bill: { chargeFen: Fen; paidFen: Fen; lines: BillLine[] },
  season: Pick<SeasonRules, 'discountBp' | 'discountUntil' | 'dueDate' | 'lateFeeDailyBp' | 'lateFeeCapBp'>,
  today: string,
): Quote {
  const lines = [...bill.lines];
  let discountFen = 0;
  let lateFeeFen = 0;
  if (season.discountBp > 0 && season.discountUntil && today <= season.discountUntil) {
    discountFen = applyBasisPoints(bill.chargeFen, season.discountBp);
    if (discountFen > 0) lines.push({ label: '早缴优惠', detail: `${season.discountUntil}前缴费优惠${season.discountBp / 100}%`, amountFen: -discountFen });
  }
  const lateDays = daysBetween(season.dueDate, today);
  if (season.lateFeeDailyBp > 0 && lateDays > 0) {
    const uncapped = applyBasisPoints(bill.chargeFen, season.lateFeeDailyBp * lateDays);
    lateFeeFen = Math.min(uncapped, applyBasisPoints(bill.chargeFen, season.lateFeeCapBp));
    if (lateFeeFen > 0) lines.push({ label: '滞纳金', detail: `逾期${lateDays}天，每日${season.lateFeeDailyBp / 10}‰`, amountFen: lateFeeFen });
  }
  if (bill.paidFen > 0) lines.push({ label: '已缴', detail: '', amountFen: -bill.paidFen });
  const dueFen = Math.max(0, bill.chargeFen - discountFen + lateFeeFen - bill.paidFen);
  return { chargeFen: bill.chargeFen, discountFen, lateFeeFen, paidFen: bill.paidFen, dueFen, lines };
}

// ---- payment orders and refunds --------------------------------------------------------------

export const ORDER_STATES = ['pending', 'paid', 'closed'] as const;
export type OrderState = (typeof ORDER_STATES)[number];
export const ORDER_STATE_LABEL: Record<OrderState, string> = { pending: '待支付', paid: '已支付', closed: '已关闭' };

/** Only WeChat (notification, query, sweeper) moves an order. */
export const ORDER_TRANSITIONS: TransitionTable<OrderState> = [
  { from: 'pending', to: 'paid', by: ['system'] },
  { from: 'pending', to: 'closed', by: ['system'] },
  // WeChat reports a payment made just as the order was closed: the money is real, credit it
  { from: 'closed', to: 'paid', by: ['system'] },
];

export const REFUND_STATES = ['requested', 'processing', 'success', 'closed', 'abnormal', 'failed'] as const;
export type RefundState = (typeof REFUND_STATES)[number];
export const REFUND_STATE_LABEL: Record<RefundState, string> = {
  requested: '已申请',
  processing: '退款中',
  success: '已退款',
  closed: '退款关闭',
  abnormal: '退款异常',
  failed: '退款失败',
};

export const REFUND_TRANSITIONS: TransitionTable<RefundState> = [
  { from: 'requested', to: 'processing', by: ['system'] },
  { from: 'requested', to: 'success', by: ['system'] },
  { from: 'requested', to: 'failed', by: ['system'] },
  { from: 'processing', to: 'success', by: ['system'] },
  { from: 'processing', to: 'closed', by: ['system'] },
  { from: 'processing', to: 'abnormal', by: ['system'] },
  { from: 'abnormal', to: 'success', by: ['system'] },
];

export const REFUND_KINDS = ['ruling', 'duplicate', 'other'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];
export const REFUND_KIND_LABEL: Record<RefundKind, string> = { ruling: '测温裁定退费', duplicate: '重复缴费自动退款', other: '其他退费' };
