import { z } from 'zod';

/** Positive integer id in a path or query string ("12" -> 12). */
export const IdParam = z.coerce.number().int().positive();
export const IdParams = z.object({ id: IdParam });

export const PageQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
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
