/**
 * The access matrix, generated from the route table: every route declared through route() is
 * called as anonymous, as a resident and as a staff member of each single role, and must answer as
 * its `auth` declares: 401 for anonymous on a non-public route, 403 FORBIDDEN for a principal the
 * route does not list, and neither for one it does. A new route is covered the day it is declared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allEndpoints } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../test-support/app';
import { concretePath, declaredAllowed, EVERYONE, routeName, routeTable, staffPerRole, type Who } from '../test-support/routes';

let t: TestApp;
const tokens: Partial<Record<Who, string>> = {};

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true });
  const areas = (await t.services.company.areas()).map((a) => a.id);
  Object.assign(tokens, await staffPerRole(t, 'matrix', areas));
  tokens.resident = await t.loginResident('matrix-resident');
});
afterAll(async () => t?.close());

describe('access matrix (route table × principals)', () => {
  it('the route table holds every module’s routes', () => {
    const routes = routeTable();
    expect(routes.length).toBeGreaterThan(130);
    for (const prefix of [
      '/accounts',
      '/admin/',
      '/bills',
      '/groups',
      '/staff/repairs',
      '/staff/reconciliation/',
      '/service-changes',
      '/invoices',
      '/payments',
      '/measurements',
      '/auth/',
    ])
      expect(
        routes.some((r) => r.path.startsWith(prefix)),
        prefix,
      ).toBe(true);
  });

  it('the route table is the shared descriptors, each declared once and as described', () => {
    const key = (e: { method: string; path: string }) => `${e.method.toUpperCase()} ${e.path}`;
    const declared = new Map(routeTable().map((r) => [key(r), r]));
    const described = allEndpoints();
    expect(new Set(described.map(key)).size).toBe(described.length);
    expect([...declared.keys()].sort()).toEqual(described.map(key).sort());
    for (const e of described) {
      const r = declared.get(key(e))!;
      expect([r.params, r.query, r.body], key(e)).toEqual([e.params, e.query, e.body]);
    }
  });

  for (const who of EVERYONE) {
    it(`every route answers ${who} as declared`, async () => {
      const wrong: string[] = [];
      let calls = 0;
      // logging out ends the session the rest of the row runs on: last
      const routes = [...routeTable()].sort((a, b) => Number(a.path === '/auth/logout') - Number(b.path === '/auth/logout'));
      for (const route of routes) {
        const res = await t.call(route.method.toUpperCase(), concretePath(route), {
          token: tokens[who],
          ...(route.method === 'get' || route.method === 'delete' ? {} : { body: {} }),
        });
        calls++;
        const code = res.body?.error?.code;
        const allowed = declaredAllowed(route, who);
        const ok = allowed
          ? res.status !== 401 && !(res.status === 403 && code === 'FORBIDDEN') && res.status < 500
          : who === 'anonymous'
            ? res.status === 401 && code === 'UNAUTHENTICATED'
            : res.status === 403 && code === 'FORBIDDEN';
        if (!ok) wrong.push(`${routeName(route)} as ${who}: ${res.status} ${code ?? ''} (declared ${allowed ? 'allowed' : 'refused'})`);
      }
      expect(wrong).toEqual([]);
      expect(calls).toBe(routeTable().length);
    });
  }

  it('a route asked with its prefix or first segment in another case is no route (404), never a way past the token check', async () => {
    const wrong: string[] = [];
    for (const route of routeTable()) {
      const exact = concretePath(route);
      const segment = exact.split('/')[3]!;
      for (const path of [exact.replace('/api/v1/', '/API/V1/'), exact.replace(`/${segment}`, `/${segment.toUpperCase()}`)]) {
        if (path === exact) continue;
        const res = await t.call(route.method.toUpperCase(), path, {
          token: tokens.resident,
          ...(route.method === 'get' || route.method === 'delete' ? {} : { body: {} }),
        });
        if (res.status !== 404) wrong.push(`${route.method.toUpperCase()} ${path}: ${res.status} ${res.body?.error?.code ?? ''}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
