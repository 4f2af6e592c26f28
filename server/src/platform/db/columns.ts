import type { ValueTransformer } from 'typeorm';

/** BIGINT fen <-> JS number (mysql2 returns BIGINT as a string). */
export const fenTransformer: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null) => (v === null || v === undefined ? v : Number(v)),
};

/** Options for a money column: BIGINT fen, never a float. */
export const money = (opts: { nullable?: boolean; default?: number } = {}) =>
  ({ type: 'bigint', transformer: fenTransformer, ...opts }) as const;

/** Options for an instant column: UTC, microsecond precision (matches CURRENT_TIMESTAMP(6) defaults on MySQL). */
export const instant = (opts: { nullable?: boolean } = {}) => ({ type: 'datetime', precision: 6, ...opts }) as const;
