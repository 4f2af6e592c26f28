/**
 * China time without `Intl`: both sides import these, and the WeChat build runs on Android's JS
 * engine, which has no `Intl` (so no luxon and no toLocaleString with options in the client).
 * China has kept a fixed UTC+8 without daylight saving since 1991, so China wall-clock time is
 * plain arithmetic. The server keeps luxon for its own calendar work.
 */

/** Every business rule is evaluated in this zone; storage is UTC. */
export const BUSINESS_ZONE = 'Asia/Shanghai';
/** Asia/Shanghai's offset from UTC, all year. */
export const CHINA_OFFSET_MS = 8 * 3_600_000;
export const DAY_MS = 86_400_000;

export type TimeInput = Date | string | number;

/** A China wall-clock reading of an instant (month 1–12, weekday 1 = Monday … 7 = Sunday). */
export interface ChinaParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  millisecond: number;
  weekday: number;
}

function ms(instant: TimeInput): number {
  return instant instanceof Date ? instant.getTime() : typeof instant === 'number' ? instant : new Date(instant).getTime();
}

export function chinaParts(instant: TimeInput): ChinaParts {
  const d = new Date(ms(instant) + CHINA_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(),
    weekday: ((d.getUTCDay() + 6) % 7) + 1,
  };
}

/** The instant of a China wall-clock time (month 1–12; fields overflow like Date.UTC: day 32 is next month). */
export function chinaTime(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, millisecond = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, millisecond) - CHINA_OFFSET_MS);
}

/** China midnight of the day holding `instant`, `days` days later. */
export function chinaDayStart(instant: TimeInput, days = 0): Date {
  const p = chinaParts(instant);
  return chinaTime(p.year, p.month, p.day + days);
}

/** Are two instants on the same China calendar day? */
export function sameChinaDay(a: TimeInput, b: TimeInput): boolean {
  return chinaDayStart(a).getTime() === chinaDayStart(b).getTime();
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** "2026-11-24 09:05" in China time, for residents and staff ('' for an invalid instant). */
export function formatChinaTime(instant: TimeInput, withSeconds = false): string {
  if (Number.isNaN(ms(instant))) return '';
  const p = chinaParts(instant);
  return `${chinaDate(instant)} ${pad(p.hour)}:${pad(p.minute)}${withSeconds ? `:${pad(p.second)}` : ''}`;
}

/** "2026-11-24" in China time. */
export function chinaDate(instant: TimeInput): string {
  if (Number.isNaN(ms(instant))) return '';
  const p = chinaParts(instant);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

/** "09:05" in China time. */
export function chinaHm(instant: TimeInput): string {
  const p = chinaParts(instant);
  return `${pad(p.hour)}:${pad(p.minute)}`;
}

/** RFC 3339 with +08:00 and no milliseconds, as WeChat Pay wants it. */
export function toWechatTime(instant: Date): string {
  const p = chinaParts(instant);
  return `${chinaDate(instant)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+08:00`;
}

/** ISO 8601 in China time with milliseconds: "2026-11-24T16:00:00.000+08:00". */
export function toChinaISO(instant: TimeInput): string {
  const p = chinaParts(instant);
  return `${chinaDate(instant)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}.${pad(p.millisecond, 3)}+08:00`;
}

/** "HH:mm" → minutes after midnight. */
export function minutesOfDay(hm: string): number {
  const [h = 0, m = 0] = hm.split(':').map(Number);
  return h * 60 + m;
}
