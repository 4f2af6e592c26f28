/** Row mappers and the resident's view of a bill, shared by billing's service files. */

import { quoteBill, seasonLabel, type BillView, type CompanyRules, type Quote, type SeasonView } from '@heat-butler/shared';
import { rawDatetime } from '../../platform/db/columns';
import type { Account } from '../accounts';
import { Bill, Season } from './entities';

/** Is the household's heat off (报停 or 封阀) in the sense of "no late fee while heat is cut off"? */
export function heatOff(status: Account['status'] | undefined, rules: Pick<CompanyRules, 'billing'>): boolean {
  return rules.billing.noLateFeeWhileHeatOff && (status === 'stopped' || status === 'sealed');
}

type PayFirst = BillView['payFirst'];

/** A bill as the resident sees it, priced for `today` while unpaid, as settled once paid. */
export function toView(b: Bill, season: Season, accountNo: string, address: string, today: string, opts: { heatOff: boolean; payFirst: PayFirst }): BillView {
  const unpaid = b.status === 'unpaid';
  const q: Quote = unpaid
    ? quoteBill(b, season, today, { heatOff: opts.heatOff })
    : { chargeFen: b.chargeFen, discountFen: b.discountFen, lateFeeFen: b.lateFeeFen, paidFen: b.paidFen, unpaidFen: 0, dueFen: 0, lines: frozenLines(b) };
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
    arrears: unpaid && season.endDate < today,
    chargeFen: b.chargeFen,
    discountFen: q.discountFen,
    lateFeeFen: q.lateFeeFen,
    paidFen: b.paidFen,
    dueFen: unpaid ? q.dueFen : 0,
    dueDate: season.dueDate,
    lateFeeRule: { dailyBp: season.lateFeeDailyBp, capBp: season.lateFeeCapBp },
    lines: q.lines,
    paidAt: b.paidAt ? b.paidAt.toISOString() : null,
    payFirst: unpaid ? opts.payFirst : null,
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

/** Raw rows: mysql2 gives BIGINT as strings and JSON columns as text; SQLite gives datetimes as UTC text. */
export function rawBill(r: Record<string, any>): Bill {
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
    lines: typeof r.b_lines === 'string' ? JSON.parse(r.b_lines) : r.b_lines,
    paidVia: r.b_paidVia ?? null,
    paidAt: r.b_paidAt ? rawDatetime(r.b_paidAt) : null,
  } as Bill;
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
