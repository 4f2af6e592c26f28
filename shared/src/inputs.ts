/**
 * The one set of input building blocks every API schema uses: ids and integers bounded to what
 * their columns hold, money with a sane ceiling, and dates / seasons / instants that are real
 * calendar values in a sane range. Anything outside is a 400 with a Chinese message, never a
 * database error, an overflow or a date loop that does not end.
 *
 * Pure and without luxon or Intl: the mini-program validates its forms with the same schemas.
 */
import { z } from 'zod';
import { formatFen } from './money';

/** Largest value of a signed 32-bit INT column (every id and counter column). */
export const INT32_MAX = 2_147_483_647;
/** Dates and seasons a request may name: the product's business lies well inside these years. */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2099;
/**
 * The largest amount of money one input may carry, in fen (¥1,000,000): far above any household's
 * season bill, far below where sums overflow or WeChat Pay refuses an order.
 */
export const MAX_FEN = 100_000_000;
/** The largest season tariff, fen per m² (¥200/㎡; real tariffs are ¥20–60/㎡). */
export const MAX_TARIFF_FEN = 20_000;

const RANGE_MSG = `年份应在${MIN_YEAR}–${MAX_YEAR}之间`;

/** Days in a month of a year (Gregorian). */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Is "YYYY-MM-DD" a real calendar date (any year)? */
export function isRealDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return mo >= 1 && mo <= 12 && d >= 1 && d <= daysInMonth(y, mo);
}

/*
 * No check here aborts: an object's own refinements still run when one field is wrong (every
 * problem listed at once), and each later check passes what an earlier one already refused, so a
 * field gets one message, never two.
 */
const isInt = (v: number) => Number.isSafeInteger(v);

/** An integer in [min, max] with one message per problem. */
function boundedInt<T extends z.ZodNumber | z.ZodCoercedNumber<unknown>>(
  base: T,
  min: number,
  max: number,
  msgs: { int: string; min: string; max: string },
): T {
  return (base as z.ZodNumber)
    .int(msgs.int)
    .refine((v) => !isInt(v) || v >= min, msgs.min)
    .refine((v) => !isInt(v) || v <= max, msgs.max) as unknown as T;
}

/** A positive id (INT column): a number in a JSON body. */
export function intId(message = '编号无效') {
  return boundedInt(z.number(message), 1, INT32_MAX, { int: message, min: message, max: message });
}

/** A positive id (INT column) in a path or query string ("12" → 12). */
export function idParam(message = '编号无效') {
  return boundedInt(z.coerce.number(message), 1, INT32_MAX, { int: message, min: message, max: message });
}

/** An integer that fits an INT column, within [min, max] (defaults: 0 .. 2^31-1). */
export function int32(opts: { min?: number; max?: number; coerce?: boolean; message?: string } = {}) {
  const min = Math.max(opts.min ?? 0, -INT32_MAX - 1);
  const max = Math.min(opts.max ?? INT32_MAX, INT32_MAX);
  const base = opts.coerce ? z.coerce.number(opts.message) : z.number(opts.message);
  return boundedInt(base, min, max, { int: opts.message ?? '应为整数', min: opts.message ?? `不能小于${min}`, max: opts.message ?? `不能大于${max}` });
}

/** An amount of money in fen: an integer, 0 .. max (default ¥1,000,000). */
export function fen(opts: { min?: number; max?: number } = {}) {
  const min = opts.min ?? 0;
  const max = opts.max ?? MAX_FEN;
  return boundedInt(z.number('金额应为数字（分）'), min, max, {
    int: '金额必须为整数（分）',
    min: min > 0 ? '金额必须大于0' : '金额不能为负数',
    max: `金额不能超过${formatFen(max)}`,
  });
}

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const SEASON_RE = /^\d{4}-\d{4}$/;
const inRange = (year: number) => year >= MIN_YEAR && year <= MAX_YEAR;

/** A China calendar date "YYYY-MM-DD": a real date between MIN_YEAR and MAX_YEAR. */
export function isoDate() {
  return z
    .string('日期格式应为 YYYY-MM-DD')
    .regex(DATE_RE, '日期格式应为 YYYY-MM-DD')
    .refine((s) => !DATE_RE.test(s) || isRealDate(s), '日期不存在')
    .refine((s) => !isRealDate(s) || inRange(Number(s.slice(0, 4))), RANGE_MSG);
}

/** A heating season code "2026-2027": two adjacent years inside the sane range. */
export function seasonCode() {
  const adjacent = (s: string) => Number(s.slice(5)) === Number(s.slice(0, 4)) + 1;
  return z
    .string('采暖季格式应为 2026-2027')
    .regex(SEASON_RE, '采暖季格式应为 2026-2027')
    .refine((s) => !SEASON_RE.test(s) || adjacent(s), '采暖季应跨相邻两年，如 2026-2027')
    .refine((s) => !SEASON_RE.test(s) || !adjacent(s) || (inRange(Number(s.slice(0, 4))) && inRange(Number(s.slice(5)))), RANGE_MSG);
}

/** A season's start year as a number (query strings: "2026" → 2026). */
export function seasonYear() {
  return boundedInt(z.coerce.number('年份无效'), MIN_YEAR, MAX_YEAR - 1, { int: '年份无效', min: RANGE_MSG, max: RANGE_MSG });
}

/** An ISO-8601 instant with an offset ("2026-11-25T10:00:00+08:00"), a real time in the sane range. */
export function isoInstant(message = '时间格式不正确') {
  const shape = z.iso.datetime({ offset: true });
  return z
    .string(message)
    .refine((s) => shape.safeParse(s).success, message)
    .refine((s) => {
      if (!shape.safeParse(s).success) return true;
      const t = Date.parse(s);
      return !Number.isNaN(t) && inRange(new Date(t).getUTCFullYear()) && isRealDate(s.slice(0, 10));
    }, message);
}

const MM_DD_RE = /^\d{2}-\d{2}$/;

/**
 * A calendar setting "MM-DD" that exists in every year: 02-30, 04-31 (never) and 02-29 (only in leap
 * years) are refused, so every "this day of year Y" computed from it is a real date.
 */
export function monthDay() {
  return z
    .string('格式应为 MM-DD')
    .regex(MM_DD_RE, '格式应为 MM-DD')
    .refine((s) => !MM_DD_RE.test(s) || s === '02-29' || isRealDate(`2027-${s}`), '日期不存在（如2月30日、4月31日）')
    .refine((s) => s !== '02-29', '2月29日并非每年都有，请改为2月28日或3月1日');
}

/**
 * The date "MM-DD" falls on in `year`, as "YYYY-MM-DD" (year zero-padded). A day the month does
 * not have (a stored 02-29 in a non-leap year, a legacy 04-31) is clamped to the month's last day,
 * so the result is always a real date.
 */
export function dateInYear(year: number, mmdd: string): string {
  const month = Math.min(12, Math.max(1, Number(mmdd.slice(0, 2)) || 1));
  const day = Math.min(daysInMonth(year, month), Math.max(1, Number(mmdd.slice(3, 5)) || 1));
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
