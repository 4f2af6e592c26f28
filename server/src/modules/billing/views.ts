/** Row mappers and the resident's view of a bill, shared by billing's service files. */

import {
  quoteAmounts,
  quoteBill,
  seasonLabel,
  type BillSummary,
  type BillView,
  type CompanyRules,
  type QuoteAmounts,
  type SeasonView,
} from '@heat-butler/shared';
import { rawDatetime } from '../../platform/db/columns';
import type { Account } from '../accounts';
import { Bill, Season } from './entities';

/** Is the household's heat off (报停 or 封阀) in the sense of "no late fee while heat is cut off"? */
export function heatOff(status: Account['status'] | undefined, rules: Pick<CompanyRules, 'billing'>): boolean {
  return rules.billing.noLateFeeWhileHeatOff && (status === 'stopped' || status === 'sealed');
}

type PayFirst = BillSummary['payFirst'];

type ViewOpts = { heatOff: boolean; payFirst: PayFirst };
/** What a summary is priced from: a bill's figures, without its lines. */
type BillFigures = Omit<Bill, 'lines'>;

/** A bill as the list shows it, priced for `today` while unpaid, as settled once paid (no lines). */
export function toSummary(b: BillFigures, season: Season, accountNo: string, address: string, today: string, opts: ViewOpts): BillSummary {
  const q = b.status === 'unpaid' ? quoteAmounts(b, season, today, opts) : null;
  return summaryOf(b, season, accountNo, address, today, opts, q);
}

/** A bill as the resident sees it in detail: the summary and the lines it is computed from. */
export function toView(b: Bill, season: Season, accountNo: string, address: string, today: string, opts: ViewOpts): BillView {
  const q = b.status === 'unpaid' ? quoteBill(b, season, today, opts) : null;
  return { ...summaryOf(b, season, accountNo, address, today, opts, q), lines: q ? q.lines : frozenLines(b) };
}

/** The summary of a bill: `q` is its quote for today while unpaid, null once paid (its figures as settled). */
function summaryOf(b: BillFigures, season: Season, accountNo: string, address: string, today: string, opts: ViewOpts, q: QuoteAmounts | null): BillSummary {
  return {
    id: b.id,
    accountId: b.accountId,
    accountNo,
    address,
    season: season.code,
    seasonLabel: seasonLabel(season.code),
    kind: b.kind,
    status: b.status,
    // an earlier season, over and still unpaid
    arrears: q !== null && season.endDate < today,
    chargeFen: b.chargeFen,
    discountFen: q ? q.discountFen : b.discountFen,
    lateFeeFen: q ? q.lateFeeFen : b.lateFeeFen,
    paidFen: b.paidFen,
    dueFen: q ? q.dueFen : 0,
    dueDate: season.dueDate,
    lateFeeRule: { dailyBp: season.lateFeeDailyBp, capBp: season.lateFeeCapBp },
    paidAt: b.paidAt ? b.paidAt.toISOString() : null,
    payFirst: q ? opts.payFirst : null,
  };
}

export const BILL_COLUMNS: [string, string][] = [
  ['b.id', 'b_id'],
  ['b.accountId', 'b_accountId'],
  ['b.seasonId', 'b_seasonId'],
  ['b.kind', 'b_kind'],
  ['b.status', 'b_status'],
  ['b.heatedArea', 'b_heatedArea'],
  ['b.unitPriceFen', 'b_unitPriceFen'],
  ['b.chargeFen', 'b_chargeFen'],
  ['b.paidFen', 'b_paidFen'],
  ['b.discountFen', 'b_discountFen'],
  ['b.lateFeeFen', 'b_lateFeeFen'],
  ['b.lines', 'b_lines'],
  ['b.paidVia', 'b_paidVia'],
  ['b.paidAt', 'b_paidAt'],
];
export const SEASON_COLUMNS: [string, string][] = [
  ['s.id', 's_id'],
  ['s.code', 's_code'],
  ['s.endDate', 's_endDate'],
  ['s.dueDate', 's_dueDate'],
  ['s.baseFeeRatioBp', 's_baseFeeRatioBp'],
  ['s.discountBp', 's_discountBp'],
  ['s.discountUntil', 's_discountUntil'],
  ['s.lateFeeDailyBp', 's_lateFeeDailyBp'],
  ['s.lateFeeCapBp', 's_lateFeeCapBp'],
];

/** Column lists as select expressions: [['b.id', 'b_id'], …] → ['b.id AS b_id', …]. */
export function selectList(columns: readonly [string, string][]): string[] {
  return columns.map(([expr, alias]) => `${expr} AS ${alias}`);
}

/** The columns the bill list reads: all but the lines (toSummary). */
export const BILL_SUMMARY_COLUMNS = BILL_COLUMNS.filter(([, alias]) => alias !== 'b_lines');

/** Raw rows: mysql2 gives JSON columns as text and DECIMAL sums as strings; SQLite gives datetimes as UTC text. */
export function rawBill(r: Record<string, any>): Bill {
  return { ...rawBillFigures(r), lines: typeof r.b_lines === 'string' ? JSON.parse(r.b_lines) : r.b_lines } as Bill;
}

/** A row of BILL_SUMMARY_COLUMNS (or BILL_COLUMNS) without its lines. */
export function rawBillFigures(r: Record<string, any>): BillFigures {
  return {
    id: Number(r.b_id),
    accountId: Number(r.b_accountId),
    seasonId: Number(r.b_seasonId),
    kind: r.b_kind,
    status: r.b_status,
    heatedArea: Number(r.b_heatedArea),
    unitPriceFen: Number(r.b_unitPriceFen),
    chargeFen: Number(r.b_chargeFen),
    paidFen: Number(r.b_paidFen),
    discountFen: Number(r.b_discountFen),
    lateFeeFen: Number(r.b_lateFeeFen),
    paidVia: r.b_paidVia ?? null,
    paidAt: r.b_paidAt ? rawDatetime(r.b_paidAt) : null,
  } as BillFigures;
}

export function rawSeason(r: Record<string, any>): Season {
  return {
    id: Number(r.s_id),
    code: r.s_code,
    endDate: r.s_endDate,
    dueDate: r.s_dueDate,
    baseFeeRatioBp: Number(r.s_baseFeeRatioBp),
    discountBp: Number(r.s_discountBp),
    discountUntil: r.s_discountUntil ?? null,
    lateFeeDailyBp: Number(r.s_lateFeeDailyBp),
    lateFeeCapBp: Number(r.s_lateFeeCapBp),
  } as Season;
}

/** A paid bill's computation as it was settled. */
export function frozenLines(b: Bill) {
  const lines = [...b.lines];
  if (b.discountFen) lines.push({ label: '早缴优惠', detail: '', amountFen: -b.discountFen });
  if (b.lateFeeFen) lines.push({ label: '滞纳金', detail: '', amountFen: b.lateFeeFen });
  lines.push({ label: '已缴', detail: b.paidVia === 'counter' ? '营业厅缴费' : '微信支付', amountFen: -b.paidFen });
  return lines;
}

export function seasonView(s: Season): SeasonView {
  return {
    id: s.id,
    code: s.code,
    label: seasonLabel(s.code),
    startDate: s.startDate,
    endDate: s.endDate,
    dueDate: s.dueDate,
    tariffs: s.tariffs,
    baseFeeRatioBp: s.baseFeeRatioBp,
    discountBp: s.discountBp,
    discountUntil: s.discountUntil,
    lateFeeDailyBp: s.lateFeeDailyBp,
    lateFeeCapBp: s.lateFeeCapBp,
  };
}
