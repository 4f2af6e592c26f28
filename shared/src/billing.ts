/**
 * Bills and payments: pure rules used by the BFF (to charge) and the mini-program (to explain).
 * Money is integer fen; dates are China calendar dates (YYYY-MM-DD).
 */
import { z } from 'zod';
import { isoDate, MAX_TARIFF_FEN, seasonCode } from './inputs';

/** fen per m² per season: more than 0, at most ¥200/㎡ */
const Tariff = z
  .number('请填写单价')
  .int('单价应为整数（分）')
  .min(1, '单价必须大于0')
  .max(MAX_TARIFF_FEN, `单价不能超过${MAX_TARIFF_FEN / 100}元/㎡`);
import { applyBasisPoints, formatFen, type Fen } from './money';
import { chinaDate, chinaTime } from './time';
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
    /**
     * base fee of a stopped household, basis points of the full fee (3000 = 30%). Left out when
     * creating a season: the company's setting (报停基础热费比例) is copied in. From then on the
     * season's ratio is the one every bill of the season is priced by.
     */
    baseFeeRatioBp: z.number('请填写比例').int('比例最多保留两位小数').min(0, '比例不能小于0%').max(10000, '比例不能超过100%').optional(),
    /** early-payment discount: basis points off, for payments made on or before discountUntil */
    discountBp: z.number('请填写优惠比例').int('优惠比例最多保留两位小数').min(0, '优惠比例不能小于0%').max(5000, '优惠比例不能超过50%').default(0),
    discountUntil: IsoDate.nullable().default(null),
    /** late fee per day, basis points of the charge (20 = 2‰), capped at lateFeeCapBp in total */
    lateFeeDailyBp: z
      .number('请填写每日滞纳金比例')
      .int('每日滞纳金比例最多保留一位小数（‰）')
      .min(0, '每日滞纳金比例不能小于0')
      .max(20, '每日滞纳金不能超过2‰')
      .default(0),
    lateFeeCapBp: z.number('请填写滞纳金上限').int('滞纳金上限最多保留两位小数').min(0, '滞纳金上限不能小于0%').max(10000, '滞纳金上限不能超过100%').default(0),
  })
  .superRefine((s, ctx) => {
    if (s.endDate <= s.startDate) ctx.addIssue({ code: 'custom', path: ['endDate'], message: '结束日期应晚于开始日期' });
    const year = s.code.slice(0, 4);
    if (/^\d{4}-/.test(s.code) && s.startDate.slice(0, 4) !== year)
      ctx.addIssue({ code: 'custom', path: ['startDate'], message: `${s.code}采暖季的开始日期应在${year}年` });
    if (s.discountUntil && s.discountUntil > s.dueDate) ctx.addIssue({ code: 'custom', path: ['discountUntil'], message: '优惠截止日期不能晚于缴费截止日期' });
    if (s.discountBp > 0 && !s.discountUntil) ctx.addIssue({ code: 'custom', path: ['discountUntil'], message: '设置了优惠比例，请填写优惠截止日期' });
  });
export type SeasonInput = z.input<typeof SeasonInput>;
/** A season as stored: its base-fee ratio always set. */
export type SeasonRules = Omit<z.output<typeof SeasonInput>, 'baseFeeRatioBp'> & { baseFeeRatioBp: number };

/**
 * `make(key)`, made once per key and kept in `map`: for values a bill list needs for every bill from
 * a few keys (bench/bills.ts). The keys a process sees are few (seasons, dates); the map is emptied
 * at 1,000 all the same.
 */
function remembered<V>(map: Map<string, V>, key: string, make: (key: string) => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make(key);
    if (map.size >= 1000) map.clear();
    map.set(key, value);
  }
  return value;
}

export function seasonLabel(code: string): string {
  return remembered(seasonLabels, code, (c) => `${c.replace('-', '—')}采暖季`);
}
const seasonLabels = new Map<string, string>();

/** What a payment paid for: "2026—2027采暖季热费", or for 一键缴清 "2025—2026至2026—2027采暖季热费（2期）". */
export function paymentItemLabel(o: { seasonLabel: string; bills: readonly { season: string }[] }): string {
  if (o.bills.length <= 1) return `${o.seasonLabel}热费`;
  const first = o.bills[0]!.season.replace('-', '—');
  return `${first}至${seasonLabel(o.bills[o.bills.length - 1]!.season)}热费（${o.bills.length}期）`;
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

/** Whole days from `a` to `b` ('YYYY-MM-DD' calendar dates, b after a → positive). */
export function daysBetween(a: string, b: string): number {
  return Math.round((utcDay(b) - utcDay(a)) / 86_400_000);
}
/** Midnight UTC of a 'YYYY-MM-DD' date, in ms (Date.UTC of its numbers: no date-string parsing). */
function utcDay(date: string): number {
  return remembered(utcDays, date, (d) => Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10))));
}
const utcDays = new Map<string, number>();

export interface Quote {
  chargeFen: Fen;
  /** the discount and late fee of THIS payment (on the unpaid part) */
  discountFen: Fen;
  lateFeeFen: Fen;
  paidFen: Fen;
  /** the part of the charge no payment has covered yet: what discount and late fee apply to */
  unpaidFen: Fen;
  /** what the resident pays now */
  dueFen: Fen;
  lines: BillLine[];
}

/** "1‰" for 10 basis points per day, "0.5‰" for 5 */
const permille = (bp: number) => `${bp / 10}‰`;
/** "10%" for 1000 basis points, "2.5%" for 250 */
const percent = (bp: number) => `${bp / 100}%`;

/** A quote's amounts without its lines: what lists, totals and checks need. */
export type QuoteAmounts = Omit<Quote, 'lines'>;

type QuotedBill = { chargeFen: Fen; paidFen: Fen; discountFen?: Fen; lateFeeFen?: Fen };
type QuoteSeason = Pick<SeasonRules, 'discountBp' | 'discountUntil' | 'dueDate' | 'lateFeeDailyBp' | 'lateFeeCapBp'>;

/**
 * What a bill costs on a given China date. The early-payment discount and the late fee apply to
 * the UNPAID part of the charge only (a bill partly paid before, e.g. a paid base fee re-opened for
 * the difference after a resume): the charge minus what earlier payments covered (paid, plus the
 * discount they were given, minus the late fee they carried). The late fee runs daily after the due
 * date, capped in total. While the household's heat is off (`heatOff`: 报停 or 封阀, and the
 * company's rule says so) no late fee accrues (domain-rules.md §3, Tianjin: "if heat is cut off ...
 * the penalty stops"). `quoteBill` adds the lines that explain these amounts.
 */
export function quoteAmounts(bill: QuotedBill, season: QuoteSeason, today: string, opts: { heatOff?: boolean } = {}): QuoteAmounts {
  const p = price(bill, season, today, opts);
  return { chargeFen: p.chargeFen, discountFen: p.discountFen, lateFeeFen: p.lateFeeFen, paidFen: p.paidFen, unpaidFen: p.unpaidFen, dueFen: p.dueFen };
}

/** The amounts, and what their lines state: earlier payments' discount and late fee, days late, the cap. */
function price(bill: QuotedBill, season: QuoteSeason, today: string, opts: { heatOff?: boolean }) {
  const priorDiscount = bill.paidFen > 0 ? (bill.discountFen ?? 0) : 0;
  const priorLateFee = bill.paidFen > 0 ? (bill.lateFeeFen ?? 0) : 0;
  const covered = bill.paidFen + priorDiscount - priorLateFee;
  const unpaidFen = Math.max(0, bill.chargeFen - covered);
  let discountFen = 0;
  let lateFeeFen = 0;
  let capped = false;
  if (season.discountBp > 0 && season.discountUntil && today <= season.discountUntil) discountFen = applyBasisPoints(unpaidFen, season.discountBp);
  const lateDays = daysBetween(season.dueDate, today);
  // late, with something unpaid, under a late-fee rule (while heat is off: late, but no fee)
  const late = season.lateFeeDailyBp > 0 && lateDays > 0 && unpaidFen > 0;
  if (late && !opts.heatOff) {
    const uncapped = applyBasisPoints(unpaidFen, season.lateFeeDailyBp * lateDays);
    const cap = applyBasisPoints(unpaidFen, season.lateFeeCapBp);
    lateFeeFen = Math.min(uncapped, cap);
    capped = uncapped > cap;
  }
  const dueFen = Math.max(0, unpaidFen - discountFen + lateFeeFen);
  return { chargeFen: bill.chargeFen, discountFen, lateFeeFen, paidFen: bill.paidFen, unpaidFen, dueFen, priorDiscount, priorLateFee, lateDays, late, capped };
}

/**
 * A bill's quote on a given China date (quoteAmounts) with the lines that explain it: the bill's
 * own, what earlier payments covered, the discount, and the late fee with its rate, its days and
 * its cap when the cap applies (or why none accrues while heat is off).
 */
export function quoteBill(bill: QuotedBill & { lines: BillLine[] }, season: QuoteSeason, today: string, opts: { heatOff?: boolean } = {}): Quote {
  const p = price(bill, season, today, opts);
  const lines = [...bill.lines];
  if (bill.paidFen > 0) {
    lines.push({ label: '已缴', detail: '', amountFen: -bill.paidFen });
    if (p.priorDiscount) lines.push({ label: '已享早缴优惠', detail: '此前缴费时的优惠', amountFen: -p.priorDiscount });
    if (p.priorLateFee) lines.push({ label: '已缴滞纳金', detail: '此前缴费时已计入', amountFen: p.priorLateFee });
  }
  const part = bill.paidFen > 0 ? `未缴部分${formatFen(p.unpaidFen)}` : '';
  if (p.discountFen > 0)
    lines.push({ label: '早缴优惠', detail: `${season.discountUntil}前缴费${part}优惠${percent(season.discountBp)}`, amountFen: -p.discountFen });
  if (p.late && opts.heatOff) {
    lines.push({ label: '滞纳金', detail: `逾期${p.lateDays}天；停热（报停或封阀）期间不计滞纳金`, amountFen: 0 });
  } else if (p.lateFeeFen > 0) {
    const base = part ? `${part}，` : '';
    const detail = p.capped
      ? `${base}逾期${p.lateDays}天，每日${permille(season.lateFeeDailyBp)}，累计超过${percent(season.lateFeeCapBp)}上限，按上限${percent(season.lateFeeCapBp)}收取`
      : `${base}逾期${p.lateDays}天 × 每日${permille(season.lateFeeDailyBp)}（累计不超过${percent(season.lateFeeCapBp)}）`;
    lines.push({ label: '滞纳金', detail, amountFen: p.lateFeeFen });
  }
  const { chargeFen, discountFen, lateFeeFen, paidFen, unpaidFen, dueFen } = p;
  return { chargeFen, discountFen, lateFeeFen, paidFen, unpaidFen, dueFen, lines };
}

/**
 * The sentence under an unpaid bill: before its due date when to pay by (and the late-fee rule);
 * after it, that it is overdue, since when, the late fee so far and its cap in total — never
 * "请于 <a date long past> 前缴清". Null for a paid bill.
 */
export function billDueNote(
  bill: { status: BillStatus; dueDate: string; lateFeeFen: Fen; lateFeeRule: { dailyBp: number; capBp: number } },
  today: string,
): string | null {
  if (bill.status !== 'unpaid') return null;
  const { dailyBp, capBp } = bill.lateFeeRule;
  const cap = capBp > 0 ? `，累计不超过欠费的${percent(capBp)}` : '';
  const days = daysBetween(bill.dueDate, today);
  if (days <= 0) return `请于 ${bill.dueDate} 前缴清${dailyBp > 0 ? `，逾期每日加收欠费的${permille(dailyBp)}滞纳金${cap}` : ''}`;
  const [y, m, d] = bill.dueDate.split('-').map(Number) as [number, number, number];
  const since = chinaDate(chinaTime(y, m, d + 1));
  const fee = bill.lateFeeFen > 0 ? `，截至今日滞纳金 ${formatFen(bill.lateFeeFen)}（每日${permille(dailyBp)}${cap}）` : '';
  return `已逾期 ${days} 天（缴费截止 ${bill.dueDate}，自 ${since} 起计滞纳金）${fee}，请尽快缴清`;
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

/**
 * What has been refunded off each bill (fen by bill id), from the resident's payment orders: a refund of a
 * pay-all order counts on the bills its `lines` name, any other on the order's one bill. Only refunds that
 * went through (`success`) count, as in the order's `refundedFen`.
 */
export function refundedByBill(
  orders: readonly {
    billId: number;
    refunds: readonly { amountFen: number; status: RefundState; lines: readonly { billId: number; amountFen: number }[] | null }[];
  }[],
): Map<number, number> {
  const out = new Map<number, number>();
  const add = (billId: number, fen: number) => out.set(billId, (out.get(billId) ?? 0) + fen);
  for (const o of orders)
    for (const r of o.refunds) {
      if (r.status !== 'success') continue;
      if (r.lines?.length) for (const l of r.lines) add(l.billId, l.amountFen);
      else add(o.billId, r.amountFen);
    }
  return out;
}
