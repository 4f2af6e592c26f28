/**
 * Area scope, the one rule: admins see every area; every other staff member sees only the areas
 * they serve (`principal.areaIds`). Use `scopeToAreas` to filter in SQL, before paging, so that a
 * page is full and its total is right; use `inScope` for one row already loaded.
 */
import type { WhereExpressionBuilder } from 'typeorm';
import { staffAreaFilter, type StaffPrincipal } from './auth';

/** May this staff member see things of this area? */
export function inScope(p: StaffPrincipal, areaId: number | null | undefined): boolean {
  const areas = staffAreaFilter(p);
  return areas === 'all' || (areaId != null && areas.includes(areaId));
}

/**
 * Restrict a query to the staff member's areas: `areaColumn IN (their areas)`, no rows when they
 * serve none, unchanged for admins. `areaColumn` is an SQL expression such as `'t.areaId'`;
 * `orWhere` lets rows through whatever their area (e.g. `"a.scope = 'all'"`). Parameter names are
 * fixed, so call it once per query.
 */
export function scopeToAreas<T extends WhereExpressionBuilder>(qb: T, areaColumn: string, p: StaffPrincipal, opts: { orWhere?: string } = {}): T {
  const areas = staffAreaFilter(p);
  if (areas === 'all') return qb;
  const inAreas = areas.length ? `${areaColumn} IN (:...scopeAreaIds)` : '1 = 0';
  qb.andWhere(opts.orWhere ? `(${opts.orWhere} OR ${inAreas})` : `(${inAreas})`, areas.length ? { scopeAreaIds: areas } : {});
  return qb;
}
