/**
 * Helpers for the tests generated from the route table (access matrix, object ownership, fuzz):
 * the declared routes, a concrete path for each, and the principals to call them as.
 */
import type { z } from 'zod';
import { STAFF_ROLES, type StaffRole } from '@heat-butler/shared';
import { registeredRoutes, type RegisteredRoute } from '../platform/http';
import type { TestApp } from './app';

export const API = '/api/v1';

/** A value for a path parameter that parses and names nothing that exists. */
export function sampleParam(name: string): string {
  if (name === 'date') return '2026-11-01';
  if (name === 'code') return '2029-2030';
  if (name === 'key') return 'up_' + '0'.repeat(32);
  return '2147483000';
}

/** The path's parameters, in order: '/groups/:id/messages' → ['id']. */
export function paramNames(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_]\w*)/g)].map((m) => m[1]!);
}

/** The route's path with its parameters filled in (given values, else sampleParam). */
export function concretePath(route: RegisteredRoute, values: Record<string, string | number> = {}): string {
  return API + route.path.replace(/:([A-Za-z_]\w*)/g, (_, n: string) => encodeURIComponent(String(values[n] ?? sampleParam(n))));
}

/** Every declared route, sorted for stable output. */
export function routeTable(): RegisteredRoute[] {
  return registeredRoutes().sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

export const routeName = (r: RegisteredRoute) => `${r.method.toUpperCase()} ${r.path}`;

/** The keys of an object schema (through optional/default/pipe wrappers), or [] for anything else. */
export function shapeOf(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  let s: any = schema;
  for (let i = 0; s && i < 10; i++) {
    const def = s._zod?.def ?? s.def;
    if (!def) return {};
    if (def.type === 'object') return def.shape as Record<string, z.ZodType>;
    s = def.type === 'pipe' ? def.in : def.innerType ?? null;
  }
  return {};
}

export type Who = 'anonymous' | 'resident' | StaffRole;
export const EVERYONE: Who[] = ['anonymous', 'resident', ...STAFF_ROLES];

/** May `who` call the route, as declared? */
export function declaredAllowed(route: RegisteredRoute, who: Who): boolean {
  if (route.auth === 'public') return true;
  if (who === 'anonymous') return false;
  return (route.auth as readonly string[]).includes(who);
}

/**
 * One staff member per role (a single role each) serving the given areas, logged in: the
 * principals of the matrix. Usernames get `prefix` so several sets can live in one database.
 */
export async function staffPerRole(t: TestApp, prefix: string, areaIds: number[]): Promise<Record<StaffRole, string>> {
  const out = {} as Record<StaffRole, string>;
  for (const role of STAFF_ROLES) {
    const username = `${prefix}_${role}`;
    await t.services.identity.createStaff({ username, name: `${role}测试`, password: 'matrix-2026', roles: [role], areaIds });
    out[role] = await t.loginStaff(username, 'matrix-2026');
  }
  return out;
}
