import { z } from 'zod';
import { idParam, int32 } from '../inputs';

/** Positive integer id in a path or query string ("12" -> 12), at most what an INT column holds. */
export const IdParam = idParam();
export const IdParams = z.object({ id: IdParam });

export const PageQuery = z.object({
  page: int32({ min: 1, max: 100_000, coerce: true }).default(1),
  pageSize: int32({ min: 1, max: 100, coerce: true }).default(20),
});
export type PageQuery = z.infer<typeof PageQuery>;

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** An ISO-8601 instant (UTC on the wire). */
export const Instant = z.string();
