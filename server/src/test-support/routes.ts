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
    s = def.type === 'pipe' ? def.in : (def.innerType ?? null);
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

const NUMBERS = [2147483647, 100_000_000, 1_000_000, 100_000, 43_200, 20_000, 10_000, 5000, 1000, 100, 40, 20, 10, 5, 1, 0, -1, -10];
const LENGTHS = [5000, 2000, 1000, 500, 200, 100, 80, 64, 50, 40, 32, 20, 16, 10, 8, 4, 2, 1];
/** strings with a format, tried in order: the first the field takes is used */
const FORMATTED = [
  '2026-11-20',
  '2026-2027',
  '11-01',
  '08:00',
  '2026-11-25T17:00:00+08:00',
  'someone@example.com',
  '13800138000',
  '1234',
  'ABCD2345',
  'A01',
  'up_' + '0'.repeat(32),
  'https://example.com/a.jpg',
  'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  '0101010101',
  '91110108MA01111111',
  'fuzz_user',
  'password-2026',
  '1900000001',
];

const parses = (schema: z.ZodType, v: unknown) => schema.safeParse(v).success;

/**
 * A value the schema takes, at its upper ('max': longest strings, largest numbers, fullest arrays,
 * every optional field) or lower ('min': shortest, smallest, required fields only) edge; undefined
 * when none of the candidates fits. Built by trying candidates against the schema itself, so it
 * follows every check the schema has without reading zod's internals beyond its structure.
 */
export function edgeValue(schema: z.ZodType, mode: 'max' | 'min', depth = 0): unknown {
  const def: any = (schema as any)._zod?.def;
  if (!def || depth > 6) return undefined;
  switch (def.type) {
    case 'optional':
      return mode === 'min' ? undefined : edgeValue(def.innerType, mode, depth + 1);
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return edgeValue(def.innerType, mode, depth + 1);
    case 'pipe':
      return edgeValue(def.in, mode, depth + 1);
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, s] of Object.entries(def.shape as Record<string, z.ZodType>)) {
        const v = edgeValue(s, mode, depth + 1);
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    case 'array': {
      const item = edgeValue(def.element, mode, depth + 1);
      if (item === undefined) return [];
      if (mode === 'min') return parses(schema, []) ? [] : [item];
      for (const n of [20, 12, 10, 9, 5, 3, 1]) if (parses(schema, Array(n).fill(item))) return Array(n).fill(item);
      return [item];
    }
    case 'union':
      for (const o of def.options) {
        const v = edgeValue(o, mode, depth + 1);
        if (v !== undefined && parses(o, v)) return v;
      }
      return undefined;
    case 'enum':
      return Object.values(def.entries)[mode === 'max' ? Object.values(def.entries).length - 1 : 0];
    case 'literal':
      return def.values[0];
    case 'boolean':
      return mode === 'max';
    case 'number': {
      const order = mode === 'max' ? NUMBERS : [...NUMBERS].reverse();
      return order.find((n) => parses(schema, n)) ?? order.find((n) => parses(schema, String(n)));
    }
    case 'string': {
      const lengths = mode === 'max' ? LENGTHS : [...LENGTHS].reverse();
      for (const n of lengths) if (parses(schema, '户'.repeat(n))) return '户'.repeat(n);
      for (const n of lengths) if (parses(schema, 'x'.repeat(n))) return 'x'.repeat(n);
      return FORMATTED.find((s) => parses(schema, s));
    }
    default:
      return undefined;
  }
}
