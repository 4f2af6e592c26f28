/**
 * The room-temperature measurement protocol, in one place: the canned reply residents get, the
 * measurement page and the server's validation message all read it from here.
 * Changchun 000, rule 4: 门窗关闭30分钟以上; 测温表放置在卧室、起居室……门进深二分之一处
 * (the middle of the room) 距地面一点四米高; 5分钟以上的稳定读数为实际有效温度.
 */
export const MEASUREMENT_PROTOCOL = {
  /** doors and windows closed at least this long before measuring */
  closedMinutes: 30,
  /** where the thermometer stands */
  position: '房间中央',
  /** its height above the floor, metres */
  heightM: 1.4,
  /** a reading counts once it has been stable this long */
  stableMinutes: 5,
} as const;

const P = MEASUREMENT_PROTOCOL;

/** The protocol's four checks a measurement record confirms, as staff read them. */
export const MEASUREMENT_CHECKS = ['doorsWindowsClosed30Min', 'midRoom', 'height1_4m', 'stable5Min'] as const;
export type MeasurementCheck = (typeof MEASUREMENT_CHECKS)[number];
export const MEASUREMENT_CHECK_LABEL: Record<MeasurementCheck, string> = {
  doorsWindowsClosed30Min: `门窗关闭${P.closedMinutes}分钟以上`,
  midRoom: `测点位于${P.position}`,
  height1_4m: `测点距地面${P.heightM}米`,
  stable5Min: `读数稳定${P.stableMinutes}分钟`,
};

/** For residents (canned replies, the measurement page): how to measure, one sentence. */
export const MEASUREMENT_PROTOCOL_TEXT = `关闭门窗${P.closedMinutes}分钟以上，在${P.position}、距地面${P.heightM}米处测量，读数稳定${P.stableMinutes}分钟后记录`;

/** The server's refusal when a record does not confirm every check. */
export const MEASUREMENT_PROTOCOL_REQUIRED = `测温须按规范：门窗关闭${P.closedMinutes}分钟、${P.position}、距地${P.heightM}米、读数稳定${P.stableMinutes}分钟`;

/**
 * Changchun 000: a heating-fee refund for low room temperature needs a three-party measurement
 * below the legal standard and a ruling, and is paid within one day after the season. The amount
 * is stated, not typed: the paid fee × the days below the standard (from the measurement to a
 * later measurement that passed, or the season's end) ÷ the season's days × the company's
 * percentage, never more than what is still refundable.
 */
export interface RulingRefundInput {
  /** the payment refunded from, fen, and what was already refunded of it */
  paidFen: number;
  refundedFen: number;
  /** the ruled measurement's time, and the end of the shortfall (a later passing measurement or the season's end) */
  belowFrom: Date;
  belowUntil: Date;
  season: { start: Date; end: Date };
  /** the company's percentage of the daily share refunded (100 = all of it) */
  percent: number;
}

const DAY_MS = 86_400_000;
/** Whole China calendar days from a's day to b's day (0 when b is not after a). */
function chinaDays(a: Date, b: Date): number {
  const day = (d: Date) => Math.floor((d.getTime() + 8 * 3_600_000) / DAY_MS);
  return Math.max(0, day(b) - day(a));
}

export function rulingRefund(i: RulingRefundInput): { refundFen: number; days: number; seasonDays: number; text: string } {
  const from = i.belowFrom < i.season.start ? i.season.start : i.belowFrom;
  const until = i.belowUntil > i.season.end ? i.season.end : i.belowUntil;
  const days = chinaDays(from, until);
  const seasonDays = Math.max(1, chinaDays(i.season.start, i.season.end));
  const share = Math.floor((i.paidFen * days * i.percent) / (seasonDays * 100));
  const refundable = Math.max(0, i.paidFen - i.refundedFen);
  const refundFen = Math.min(share, refundable);
  const yuan = (f: number) => `¥${(f / 100).toFixed(2)}`;
  const pct = i.percent === 100 ? '' : ` × ${i.percent}%`;
  const capped = refundFen < share ? `，以可退金额${yuan(refundable)}为限` : '';
  return { refundFen, days, seasonDays, text: `${yuan(i.paidFen)} × 不达标${days}天 ÷ 采暖季${seasonDays}天${pct} = ${yuan(share)}${capped}` };
}
