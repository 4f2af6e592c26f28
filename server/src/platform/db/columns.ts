import type { ValueTransformer } from 'typeorm';

/** BIGINT fen <-> JS number (mysql2 gives a number; a string past 2^53, were there such an amount). */
export const fenTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/** Options for a money column: BIGINT fen, never a float. */
export const money = (opts: { nullable?: boolean; default?: number } = {}) => ({ type: 'bigint', transformer: fenTransformer, ...opts }) as const;

/** Options for an instant column: UTC, microsecond precision (matches CURRENT_TIMESTAMP(6) defaults on MySQL). */
export const instant = (opts: { nullable?: boolean } = {}) => ({ type: 'datetime', precision: 6, ...opts }) as const;

/** A datetime from a raw query row: a Date (mysql2, timezone 'Z') or UTC text 'YYYY-MM-DD HH:MM:SS.fff' (SQLite). */
export function rawDatetime(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v.replace(' ', 'T') + (/[Zz]|[+-]\d\d:?\d\d$/.test(v) ? '' : 'Z'));
}
