/**
 * Property-based fuzz of every declared route (fast-check): bad inputs generated from each route's
 * zod schemas — the keys its body, query and path take, filled with wrong types, 2^31 and other
 * huge numbers, negatives, NaN-ish strings, long strings, null, nested junk, impossible dates and
 * seasons — sent to the real server as a principal the route admits. Whatever comes in: never a
 * 5xx, never a stack or SQL in the answer, every error shaped {error:{code,message}} and worded in
 * natural Chinese (no schema words such as 期望/string/undefined, in the message or any field's).
 * Bounded in time (FUZZ_BUDGET_MS, default 35 s, after 4 cases per route); FUZZ_SEED replays a run.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SCHEMA_WORDS, type StaffRole } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../test-support/app';
import { DEMO } from '../demo/seed';
import { API, concretePath, edgeValue, paramNames, routeName, routeTable, shapeOf, staffPerRole } from '../test-support/routes';
import type { RegisteredRoute } from './http';

const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 35_000);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);
const RUNS_PER_ROUTE = Number(process.env.FUZZ_RUNS ?? 12);

let t: TestApp;
let resident = '';
let staff = {} as Record<StaffRole, string>;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true });
  const areas = (await t.services.company.areas()).map((a) => a.id);
  staff = await staffPerRole(t, 'fuzz', areas);
  resident = await t.loginResident('fuzz-' + crypto.randomUUID().slice(0, 8));
  const h = DEMO.accounts[0]!;
  const bound = await t.call('POST', '/api/v1/accounts/bind', { token: resident, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
  expect(bound.status).toBe(201);
});
afterAll(async () => t?.close());

/** Values that broke or could break a server: wrong types, edges of INT/BIGINT/double, unreal dates. */
const EDGE: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  -2147483648,
  2147483647,
  2147483648,
  4294967296,
  9007199254740993,
  -9223372036854775808,
  1e308,
  -1e308,
  1.5,
  0.1,
  '',
  ' ',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '0x10',
  '2147483648',
  '99999999999999999999',
  '0000-0001',
  '0999-1000',
  '2026-2028',
  '0000-01-01',
  '2026-02-30',
  '2027-02-29',
  '9999-12-31',
  '02-30',
  '2026-13-45T25:61:00Z',
  '0001-01-01T00:00:00Z',
  '2026-11-25T10:00:00+08:00',
  'https://evil.example/pixel.png',
  'up_' + 'f'.repeat(32),
  '../../etc/passwd',
  '<script>alert(1)</script>',
  "' OR 1=1 -- ",
  '\u0000\u0001',
  '\ud800',
  'x'.repeat(5000),
  '户'.repeat(2000),
  {},
  [],
  [[[]]],
  { a: { b: { c: [1, { d: null }] } } },
  [null, 2147483648, 'x'],
  { __proto__: { polluted: true } },
  { constructor: { prototype: { polluted: true } } },
];

const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...EDGE) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2, maxKeys: 4 }) },
);

/** Path parameters: junk as text, never a small positive number (it could name a real row of ours). */
const paramJunk = fc
  .constantFrom(...EDGE.filter((v) => typeof v === 'string' || typeof v === 'number'))
  .map((v) => String(v))
  .filter((s) => !/^\d{1,6}$/.test(s) && s !== '');

/** URL-encode; a lone surrogate can't be, so it goes as a malformed percent sequence (the server must cope). */
function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80%';
  }
}

/** A body: the schema's keys (some left out) filled with junk, or a whole body of junk. */
function bodyArb(route: RegisteredRoute): fc.Arbitrary<unknown> {
  const keys = Object.keys(shapeOf(route.body));
  const record = keys.length
    ? fc.record(Object.fromEntries(keys.map((k) => [k, junk])), { requiredKeys: [] })
    : fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 3 });
  return fc.oneof({ weight: 4, arbitrary: record }, { weight: 1, arbitrary: junk });
}

/** A query string over the schema's keys: junk as text, sometimes repeated (?a=1&a=2). */
function queryArb(route: RegisteredRoute): fc.Arbitrary<string> {
  const keys = Object.keys(shapeOf(route.query));
  if (!keys.length) return fc.constant('');
  const value = junk.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')));
  return fc
    .array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: keys.length + 2 })
    .map((pairs) => (pairs.length ? '?' + pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&') : ''));
}

function pathArb(route: RegisteredRoute): fc.Arbitrary<string> {
  const names = paramNames(route.path);
  if (!names.length) return fc.constant(API + route.path);
  return fc.tuple(...names.map(() => paramJunk)).map((vals) => {
    let i = 0;
    return API + route.path.replace(/:([A-Za-z_]\w*)/g, () => enc(vals[i++]!));
  });
}

/** A principal the route admits: the resident, else one staff member of an allowed role, else nobody. */
function tokenFor(route: RegisteredRoute): string | undefined {
  if (route.auth === 'public') return undefined;
  if (route.auth.includes('resident')) return resident;
  const role = (route.auth.includes('admin') ? 'admin' : route.auth[0]) as StaffRole;
  return staff[role];
}

/** What must hold for every answer. */
function problems(res: { status: number; text: string; json: any; type: string }): string[] {
  const out: string[] = [];
  if (res.status >= 500) out.push(`status ${res.status}`);
  if (/\n\s+at |node_modules|QueryFailedError|\bER_[A-Z_]+|SQLITE_|\bSELECT\b.+\bFROM\b|\bINSERT INTO\b/.test(res.text)) out.push('leaks a stack or SQL');
  if (res.status >= 400) {
    const e = res.json?.error;
    if (!e || typeof e.code !== 'string' || typeof e.message !== 'string' || !e.message) out.push('error not shaped {error:{code,message}}');
    else if (!/[\u4e00-\u9fa5]/.test(e.message)) out.push(`error message not Chinese: ${e.message}`);
    // what a resident reads is natural Chinese: no schema vocabulary ("期望 string，实际接收 undefined")
    for (const m of [e?.message, ...((e?.details?.fields ?? []) as { message?: string }[]).map((f) => f.message)]) {
      if (typeof m === 'string' && SCHEMA_WORDS.test(m)) out.push(`schema words in a message: ${m}`);
    }
    if (res.json && 'stack' in (res.json.error ?? {})) out.push('stack in error');
  }
  return out;
}

async function send(method: string, url: string, token: string | undefined, body: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload: string | undefined;
  if (method !== 'GET' && method !== 'DELETE' && body !== undefined) {
    payload = JSON.stringify(body) ?? 'null';
    headers['Content-Type'] = 'application/json';
  }
  const r = await fetch(t.url + url, { method, headers, body: payload });
  const type = r.headers.get('content-type') ?? '';
  const text = type.includes('json') || type.includes('text') || !type ? await r.text() : (await r.arrayBuffer(), '');
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: r.status, text, json, type };
}

describe('fuzz: generated bad inputs against every route', () => {
  it(
    `no 5xx, no stack, errors shaped {error:{code,message}} (seed ${SEED})`,
    async () => {
      const started = Date.now();
      // logging out would end the session the rest of the run uses
      const routes = routeTable().filter((r) => r.path !== '/auth/logout');
      const failures: string[] = [];
      let cases = 0;
      const samples = routes.map((route, i) =>
        fc.sample(fc.record({ path: pathArb(route), query: queryArb(route), body: bodyArb(route), validPath: fc.boolean() }), {
          numRuns: RUNS_PER_ROUTE,
          seed: SEED + i,
        }),
      );
      const run = async (route: RegisteredRoute, s: (typeof samples)[number][number]) => {
        // half the cases keep a well-formed path so the body and query reach their checks
        const url = (s.validPath ? concretePath(route) : s.path) + s.query;
        const res = await send(route.method.toUpperCase(), url, tokenFor(route), s.body);
        cases++;
        const p = problems(res);
        if (p.length)
          failures.push(
            `${routeName(route)} ${url.slice(0, 200)} body=${JSON.stringify(s.body)?.slice(0, 200)} → ${res.status} ${p.join('; ')} ${res.text.slice(0, 200)}`,
          );
      };
      // every route gets its first cases whatever the budget; then rounds over all routes until the budget is spent
      const FIRST = Math.min(4, RUNS_PER_ROUTE);
      for (const [i, route] of routes.entries()) for (const s of samples[i]!.slice(0, FIRST)) await run(route, s);
      for (let k = FIRST; k < RUNS_PER_ROUTE && Date.now() - started < BUDGET_MS; k++) {
        for (const [i, route] of routes.entries()) await run(route, samples[i]![k]!);
      }
      const seconds = (Date.now() - started) / 1000;
      console.info(`fuzz: ${cases} cases over ${routes.length} routes in ${seconds.toFixed(1)} s (seed ${SEED})`);
      expect(failures).toEqual([]);
      expect(cases).toBeGreaterThanOrEqual(routes.length * FIRST);
    },
    BUDGET_MS + 60_000,
  );

  it('edge values: the longest, largest, fullest and the shortest, smallest inputs each schema accepts never make a 5xx', async () => {
    const failures: string[] = [];
    const statuses: Record<number, number> = {};
    let cases = 0;
    const routes = routeTable().filter((r) => r.path !== '/auth/logout');
    for (const mode of ['max', 'min'] as const) {
      for (const route of routes) {
        const path =
          API +
          route.path.replace(/:([A-Za-z_]\w*)/g, (_, n: string) =>
            n === 'date' ? '2026-11-20' : n === 'code' ? '2026-2027' : n === 'key' ? 'up_' + '0'.repeat(32) : '1',
          );
        const q = route.query ? (edgeValue(route.query, mode) as Record<string, unknown> | undefined) : undefined;
        const query =
          q && Object.keys(q).length
            ? '?' +
              Object.entries(q)
                .map(([k, v]) => `${enc(k)}=${enc(String(v))}`)
                .join('&')
            : '';
        const body = route.body ? edgeValue(route.body, mode) : undefined;
        const res = await send(route.method.toUpperCase(), path + query, tokenFor(route), body ?? {});
        cases++;
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        if (process.env.FUZZ_VERBOSE) console.info(mode, res.status, routeName(route), res.text.slice(0, 160));
        const p = problems(res);
        if (p.length)
          failures.push(
            `${mode} ${routeName(route)} ${query.slice(0, 120)} body=${JSON.stringify(body)?.slice(0, 200)} → ${res.status} ${p.join('; ')} ${res.text.slice(0, 300)}`,
          );
      }
    }
    console.info(`edge values: ${cases} cases over ${routes.length} routes, by status ${JSON.stringify(statuses)}`);
    expect(failures).toEqual([]);
  }, 90_000);
});
