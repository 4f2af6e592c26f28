/**
 * The attack run's input findings (issue 14), each as the request that broke the server: a season
 * of year 0 that hung the process, impossible calendar settings, integers past what their columns
 * hold, tariffs without a ceiling, a foreign repair id, third-party image URLs in chat, and the
 * 100 MiB default WebSocket frame limit. Real HTTP server, real database (MariaDB with TEST_DATABASE_URL).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../test-support/app';
import { DEMO } from '../demo/seed';
import { Company } from '../modules/company/entities';
import { WS_MAX_PAYLOAD } from './realtime';

let t: TestApp;
const now = new Date('2026-11-20T02:00:00Z'); // 10:00 China time
let finance: string;
let admin: string;
let worker: string;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => now });
  [finance, admin, worker] = await Promise.all([t.loginStaff('finance1'), t.loginStaff('admin'), t.loginStaff('worker1')]);
});
afterAll(async () => t?.close());

/** A request that must answer within `ms` (a hang fails the test instead of the whole run). */
async function within(ms: number, p: Promise<{ status: number; body: any }>) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

let nextAccount = 0;
async function resident() {
  const h = DEMO.accounts[nextAccount++]!;
  const token = await t.loginResident('ib-' + crypto.randomUUID().slice(0, 8));
  const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
  expect(bound.status).toBe(201);
  return { token, accountId: bound.body.accountId as number };
}

const fields = (res: { body: any }) => (res.body.error?.details?.fields ?? []).map((f: any) => f.field);

describe('dates and seasons', () => {
  it('a season of year 0 (and other unreal ranges) is a 400 at once, and the server keeps answering', async () => {
    for (const q of ['season=0000-0001', 'season=0999-1000', 'season=2099-2100', 'from=0000-01-01&to=0000-12-31', 'from=2026-02-30', 'to=99999-01-01']) {
      const res = await within(3000, t.call('GET', `/api/v1/staff/reconciliation/days?${q}`, { token: finance }));
      expect(res.status, q).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
      expect(res.body.error.details.fields[0].message).toMatch(/[\u4e00-\u9fa5]/);
    }
    expect((await within(1000, t.call('GET', '/healthz'))).status).toBe(200);
    const ok = await within(3000, t.call('GET', '/api/v1/staff/reconciliation/days?season=2025-2026', { token: finance }));
    expect(ok.status).toBe(200);
    expect(ok.body.items ?? ok.body).toBeTruthy();
  });

  it('calendar settings must be real dates every year: 02-30, 02-31, 04-31, 09-31 and 02-29 are refused in Chinese', async () => {
    const current = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    for (const [key, value] of [
      ['changeDeadline', '02-30'],
      ['changeDeadline', '02-31'],
      ['changeDeadline', '04-31'],
      ['changeDeadline', '09-31'],
      ['changeDeadline', '02-29'],
      ['seasonStart', '11-31'],
      ['seasonEnd', '06-31'],
    ]) {
      const res = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...current, rules: { ...current.rules, [key]: value } } });
      expect(res.status, `${key}=${value}`).toBe(400);
      expect(fields(res)).toEqual([`rules.${key}`]);
      expect(res.body.error.details.fields[0].message).toMatch(/日期不存在|2月29日/);
    }
    const ok = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...current, rules: { ...current.rules, changeDeadline: '02-28' } } });
    expect(ok.status).toBe(200);
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: current });
  });

  it('an impossible deadline stored before the check no longer hangs the resident’s preview (next open season found)', async () => {
    const r = await resident();
    const company = await t.ds.getRepository(Company).findOneByOrFail({});
    const saved = company.rules;
    try {
      for (const changeDeadline of ['02-30', '02-31', '04-31', '09-31', '02-29']) {
        await t.ds.getRepository(Company).update(company.id, { rules: { ...(saved ?? {}), changeDeadline } as any });
        const res = await within(
          3000,
          t.call('GET', `/api/v1/service-changes/preview?accountId=${r.accountId}&season=2026-2027&kind=stop`, { token: r.token }),
        );
        expect(res.status, changeDeadline).toBe(200);
        expect(res.body.nextSeason).toMatch(/^\d{4}-\d{4}$/);
        expect(res.body.deadline).toMatch(/^2026-0[2-9]-\d\d 23:59:59$/);
      }
    } finally {
      await t.ds.getRepository(Company).update(company.id, { rules: saved as any });
    }
  });
});

describe('integers bounded to their columns', () => {
  it('POST /staff/repairs/:id/side with items:null is a 400, not a 500', async () => {
    for (const body of [
      { side: 'resident', items: null },
      { side: 'company', items: null },
      { side: 'resident', items: 'x' },
    ]) {
      const res = await t.call('POST', '/api/v1/staff/repairs/1/side', { token: worker, body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(fields(res)).toContain('items');
    }
  });

  it('POST /groups/:id/read with upTo ≥ 2^31 is a 400 (INT column), and so are ids past 2^31 in paths', async () => {
    const r = await resident();
    const groups = await t.call('GET', '/api/v1/groups', { token: r.token });
    const gid = groups.body.items[0].id;
    for (const upTo of [2 ** 31, 2 ** 53, 1e300, -1]) {
      const res = await t.call('POST', `/api/v1/groups/${gid}/read`, { token: r.token, body: { upTo } });
      expect(res.status, String(upTo)).toBe(400);
      expect(fields(res)).toEqual(['upTo']);
    }
    expect((await t.call('POST', `/api/v1/groups/${gid}/read`, { token: r.token, body: { upTo: 2 ** 31 - 1 } })).status).toBeLessThan(300);
    for (const path of [`/api/v1/groups/${2 ** 31}/messages`, `/api/v1/bills/${2 ** 31}`, `/api/v1/repairs/99999999999999999999`]) {
      const res = await t.call('GET', path, { token: r.token });
      expect(res.status, path).toBe(400);
    }
  });

  it('season tariffs have a ceiling: 2^31 and 99,999,999 fen/㎡ are refused, ¥200/㎡ is the most', async () => {
    const season = (code: string, residential: number) => ({
      code,
      startDate: `${code.slice(0, 4)}-11-01`,
      endDate: `${code.slice(5)}-04-01`,
      dueDate: `${code.slice(0, 4)}-12-31`,
      tariffs: { residential, commercial: 3800 },
      baseFeeRatioBp: 3000,
    });
    for (const tariff of [2 ** 31, 99_999_999, 20_001, 0, -5, 27.5]) {
      const res = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season('2030-2031', tariff) });
      expect(res.status, String(tariff)).toBe(400);
      expect(fields(res)).toEqual(['tariffs.residential']);
    }
    const ok = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season('2030-2031', 20_000) });
    expect(ok.status).toBe(201);
    const issued = await t.call('POST', '/api/v1/staff/seasons/2030-2031/bills', { token: admin });
    expect(issued.status).toBeLessThan(300);
    const bad = await t.call('PUT', '/api/v1/staff/seasons/2030-2031', { token: admin, body: season('2030-2031', 2 ** 31) });
    expect(bad.status).toBe(400);
  });

  it('money inputs have a ceiling (refunds, rulings)', async () => {
    const refund = await t.call('POST', '/api/v1/staff/payments/1/refunds', {
      token: finance,
      body: { amountFen: 2 ** 31, kind: 'other', reason: '测试退款' },
    });
    expect(refund.status).toBe(400);
    expect(fields(refund)).toEqual(['amountFen']);
  });
});

describe('foreign ids in bodies', () => {
  it('POST /measurements refuses another resident’s repairId, takes one of the same account', async () => {
    const a = await resident();
    const b = await resident();
    const repair = await t.call('POST', '/api/v1/repairs', {
      token: a.token,
      body: { accountId: a.accountId, category: 'low_temp', description: '卧室温度只有15度' },
    });
    expect(repair.status).toBe(201);
    const book = (r: { token: string; accountId: number }, repairId: number) =>
      t.call('POST', '/api/v1/measurements', { token: r.token, body: { accountId: r.accountId, scheduledAt: '2026-11-20T17:00:00+08:00', repairId } });
    const foreign = await book(b, repair.body.id);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('REPAIR_NOT_FOUND');
    expect((await book(b, 2 ** 31 - 1)).status).toBe(404);
    const own = await book(a, repair.body.id);
    expect(own.status).toBe(201);
  });
});

describe('chat and realtime', () => {
  it('a resident can only post photos uploaded here, never a third-party https URL', async () => {
    const r = await resident();
    const gid = (await t.call('GET', '/api/v1/groups', { token: r.token })).body.items[0].id;
    for (const photo of ['https://evil.example/pixel.png', 'http://127.0.0.1/x.png', '//evil.example/p.png', 'data:image/png;base64,AAAA']) {
      const res = await t.call('POST', `/api/v1/groups/${gid}/messages`, { token: r.token, body: { photo } });
      expect(res.status, photo).toBe(400);
      expect(fields(res)).toEqual(['photo']);
    }
    // an upload key of nobody's (or someone else's) upload is refused by the service
    const stranger = await t.call('POST', `/api/v1/groups/${gid}/messages`, { token: r.token, body: { photo: 'up_' + 'a'.repeat(32) } });
    expect(stranger.status).toBe(400);
  });

  it('no third-party image URL anywhere a resident or staff member attaches a photo (repairs, documents, valve work, readings)', async () => {
    const r = await resident();
    const evil = 'https://evil.example/pixel.png';
    const repair = await t.call('POST', '/api/v1/repairs', {
      token: r.token,
      body: { accountId: r.accountId, category: 'low_temp', description: '卧室只有15度', photos: [evil] },
    });
    expect(repair.status).toBe(400);
    expect(fields(repair)).toEqual(['photos.0']);
    const sc = await t.call('POST', '/api/v1/service-changes', {
      token: r.token,
      body: { accountId: r.accountId, season: '2026-2027', kind: 'stop', documents: [{ kind: 'id_photo', url: evil }] },
    });
    expect(sc.status).toBe(400);
    expect(fields(sc)).toEqual(['documents.0.url']);
    const station = await t.loginStaff('station1');
    const valve = await t.call('POST', '/api/v1/staff/valve-orders/1/done', { token: station, body: { photoUrl: evil } });
    expect(valve.status).toBe(400);
    expect(fields(valve)).toEqual(['photoUrl']);
  });

  it('a WebSocket frame over WS_MAX_PAYLOAD closes the socket (1009) instead of being buffered up to 100 MiB', async () => {
    const r = await resident();
    const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/ws?token=${r.token}`);
    await new Promise<void>((resolve, reject) => (ws.once('message', () => resolve()), ws.once('error', reject)));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    expect(WS_MAX_PAYLOAD).toBeLessThanOrEqual(16 * 1024);
    ws.send('x'.repeat(WS_MAX_PAYLOAD + 1));
    expect(await closed).toBe(1009);
  });
});
