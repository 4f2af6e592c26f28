import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';
import { countStatements, later, withoutWaiting } from '../../test-support/statements';
import { SESSION_CACHE_MS } from './service';

let t: TestApp;
let now = new Date('2026-11-24T02:00:00Z');

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => now });
});
afterAll(async () => t?.close());

async function deviceCode(user: string): Promise<string> {
  const res = await t.call('POST', '/sandbox/device/login', { body: { user } });
  expect(res.status).toBe(200);
  return res.body.code;
}

describe('WeChat login', () => {
  it('logs a resident in and keeps the same resident on the next login', async () => {
    const first = await t.call('POST', '/api/v1/auth/wechat', { body: { code: await deviceCode('alice') } });
    expect(first.status).toBe(200);
    expect(first.body.kind).toBe('resident');
    expect(first.body.token).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    const me1 = await t.call('GET', '/api/v1/me', { token: first.body.token });
    expect(me1.status).toBe(200);
    expect(me1.body).toMatchObject({ kind: 'resident', bindingCount: 0 });

    const second = await t.call('POST', '/api/v1/auth/wechat', { body: { code: await deviceCode('alice') } });
    const me2 = await t.call('GET', '/api/v1/me', { token: second.body.token });
    expect(me2.body.id).toBe(me1.body.id);
  });

  it('refuses an unknown code with WECHAT_CODE_INVALID', async () => {
    const res = await t.call('POST', '/api/v1/auth/wechat', { body: { code: 'never-issued-code' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('WECHAT_CODE_INVALID');
    expect(res.body.error.message).toMatch(/微信/);
  });

  it('refuses a code used twice with WECHAT_CODE_USED', async () => {
    const code = await deviceCode('bob');
    expect((await t.call('POST', '/api/v1/auth/wechat', { body: { code } })).status).toBe(200);
    const again = await t.call('POST', '/api/v1/auth/wechat', { body: { code } });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('WECHAT_CODE_USED');
  });

  it('maps a blocked user and a busy WeChat to their codes', async () => {
    const blocked = await t.call('POST', '/api/v1/auth/wechat', { body: { code: 'blocked-123' } });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error.code).toBe('WECHAT_BLOCKED');
    const busy = await t.call('POST', '/api/v1/auth/wechat', { body: { code: 'busy-123' } });
    expect(busy.status).toBe(502);
    expect(busy.body.error.code).toBe('WECHAT_UNAVAILABLE');
  });

  it('passes on WeChat’s per-user rate limit (45011) as WECHAT_RATE_LIMITED', async () => {
    let last: { status: number; body: any } | undefined;
    for (let i = 0; i < 102; i++) {
      last = await t.call('POST', '/api/v1/auth/wechat', { body: { code: await deviceCode('hammer') } });
      if (last.status !== 200) break;
    }
    expect(last!.status).toBe(429);
    expect(last!.body.error.code).toBe('WECHAT_RATE_LIMITED');
  });

  it('rejects a missing code with the field listed', async () => {
    const res = await t.call('POST', '/api/v1/auth/wechat', { body: {} });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    expect(res.body.error.details.fields.map((f: any) => f.field)).toEqual(['code']);
  });
});

describe('sessions', () => {
  it('requires a token, and a logged-out token reads as expired', async () => {
    expect((await t.call('GET', '/api/v1/me')).body.error.code).toBe('UNAUTHENTICATED');
    expect((await t.call('GET', '/api/v1/me', { token: 'x'.repeat(43) })).status).toBe(401);
    const token = await t.loginResident();
    // read once, so this instance holds the session in memory (SESSION_CACHE_MS): logout still ends it at once
    expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/auth/logout', { token })).status).toBe(204);
    const after = await t.call('GET', '/api/v1/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('SESSION_EXPIRED');
  });

  it('expires sessions after their lifetime', async () => {
    const token = await t.loginResident();
    expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(200);
    const saved = now;
    now = new Date(now.getTime() + (t.config.SESSION_TTL_HOURS + 1) * 3_600_000);
    try {
      const res = await t.call('GET', '/api/v1/me', { token });
      expect(res.body.error.code).toBe('SESSION_EXPIRED');
    } finally {
      now = saved;
    }
  });
});

describe('a session kept in memory (SESSION_CACHE_MS) under load', () => {
  const sessionReads = /^SELECT\b.*\bFROM `session`/is;

  it('is read once when a page’s requests find its copy run out together', async () => {
    const token = await t.loginResident();
    const me = await t.call('GET', '/api/v1/me', { token });
    await later(SESSION_CACHE_MS + 1_000, async () => {
      let principals: unknown[] = [];
      const reads = await countStatements(t.ds, sessionReads, async () => {
        principals = await Promise.all(Array.from({ length: 20 }, () => t.services.identity.resolveToken(token)));
      });
      expect(reads).toBe(1);
      for (const p of principals) expect(p).toMatchObject({ kind: 'resident', residentId: me.body.id });
    });
  });

  it('is read again, and found ended, by a request after a logout while an older read is on its way', async () => {
    const login = await t.call('POST', '/api/v1/auth/wechat', { body: { code: await deviceCode('held-read') } });
    const token: string = login.body.token;
    const principal = await t.services.identity.resolveToken(token);
    if (!principal || principal === 'expired') throw new Error('no session');
    // later than the first test's clock too, whose read is kept until SESSION_CACHE_MS after it
    await later(3 * SESSION_CACHE_MS, async () => {
      const reads = await countStatements(
        t.ds,
        sessionReads,
        async ({ held, release }) => {
          // a request whose read of the session is on its way (held before it reaches the database)
          const before = t.services.identity.resolveToken(token);
          await held;
          // the resident logs out meanwhile (what POST /auth/logout does once it knows the session:
          // the request itself would wait for the held read)
          await t.services.identity.logout(principal.sessionId);
          // a request after the logout: refused at once, not given what the older read brings
          const after = await withoutWaiting(t.call('GET', '/api/v1/me', { token }));
          expect(after).toMatchObject({ status: 401, body: { error: { code: 'SESSION_EXPIRED' } } });
          release();
          await before;
        },
        { hold: true },
      );
      expect(reads).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('staff', () => {
  it('logs staff in with a password and refuses a wrong one', async () => {
    const ok = await t.call('POST', '/api/v1/auth/staff/login', { body: { username: 'agent1', password: 'demo-2026' } });
    expect(ok.status).toBe(200);
    expect(ok.body.kind).toBe('staff');
    const me = await t.call('GET', '/api/v1/me', { token: ok.body.token });
    expect(me.body).toMatchObject({ kind: 'staff', username: 'agent1', roles: ['agent', 'butler'] });
    expect(me.body.areaIds).toHaveLength(1);
    const bad = await t.call('POST', '/api/v1/auth/staff/login', { body: { username: 'agent1', password: 'wrong' } });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('BAD_CREDENTIALS');
    const nobody = await t.call('POST', '/api/v1/auth/staff/login', { body: { username: 'nobody', password: 'x' } });
    expect(nobody.body.error.code).toBe('BAD_CREDENTIALS');
  });

  it('binds a staff WeChat with a one-time invite code from an admin', async () => {
    const admin = await t.loginStaff('admin');
    const worker = await t.loginStaff('worker1');
    const workerMe = await t.call('GET', '/api/v1/me', { token: worker });
    // only admins create invites
    expect((await t.call('POST', '/api/v1/staff/invites', { token: worker, body: { staffId: workerMe.body.id } })).status).toBe(403);
    const invite = await t.call('POST', '/api/v1/staff/invites', { token: admin, body: { staffId: workerMe.body.id } });
    expect(invite.status).toBe(201);
    expect(invite.body.inviteCode).toMatch(/^[A-Z0-9]{8}$/);

    const bound = await t.call('POST', '/api/v1/auth/staff/bind-wechat', {
      body: { code: await deviceCode('worker-phone'), inviteCode: invite.body.inviteCode },
    });
    expect(bound.status).toBe(200);
    expect((await t.call('GET', '/api/v1/me', { token: bound.body.token })).body.username).toBe('worker1');
    // the invite is single-use
    const reuse = await t.call('POST', '/api/v1/auth/staff/bind-wechat', {
      body: { code: await deviceCode('someone-else'), inviteCode: invite.body.inviteCode },
    });
    expect(reuse.body.error.code).toBe('INVITE_INVALID');
    // later WeChat logins of that phone are staff logins
    const again = await t.call('POST', '/api/v1/auth/staff/wechat', { body: { code: await deviceCode('worker-phone') } });
    expect(again.status).toBe(200);
    expect(again.body.kind).toBe('staff');
    // an ordinary resident's WeChat is not staff
    const resident = await t.call('POST', '/api/v1/auth/staff/wechat', { body: { code: await deviceCode('random-resident') } });
    expect(resident.status).toBe(403);
  });

  it('ends every session of a disabled staff member', async () => {
    const token = await t.loginStaff('station1');
    const me = await t.call('GET', '/api/v1/me', { token });
    await t.services.identity.disableStaff(me.body.id);
    expect((await t.call('GET', '/api/v1/me', { token })).body.error.code).toBe('SESSION_EXPIRED');
    const login = await t.call('POST', '/api/v1/auth/staff/login', { body: { username: 'station1', password: 'demo-2026' } });
    expect(login.body.error.code).toBe('STAFF_DISABLED');
  });

  it('enforces roles: residents cannot call staff routes, staff cannot call resident routes', async () => {
    const resident = await t.loginResident();
    const agent = await t.loginStaff('agent1');
    expect((await t.call('GET', '/api/v1/staff/accounts', { token: resident })).body.error.code).toBe('FORBIDDEN');
    expect((await t.call('GET', '/api/v1/accounts', { token: agent })).body.error.code).toBe('FORBIDDEN');
    expect((await t.call('GET', '/api/v1/staff/accounts')).body.error.code).toBe('UNAUTHENTICATED');
  });

  it('shows staff only the accounts of their areas; admins see all', async () => {
    const agent1 = await t.loginStaff('agent1');
    const agent2 = await t.loginStaff('agent2');
    const admin = await t.loginStaff('admin');
    const a1 = await t.call('GET', '/api/v1/staff/accounts?pageSize=100', { token: agent1 });
    const a2 = await t.call('GET', '/api/v1/staff/accounts?pageSize=100', { token: agent2 });
    const all = await t.call('GET', '/api/v1/staff/accounts?pageSize=100', { token: admin });
    expect(a1.body.total).toBe(108);
    expect(a2.body.total).toBe(108);
    expect(all.body.total).toBe(216);
    expect(new Set(a1.body.items.map((i: any) => i.areaName))).toEqual(new Set(['南湖片区']));
    const firstOfArea2 = a2.body.items[0].accountNo;
    const search = await t.call('GET', `/api/v1/staff/accounts?q=${firstOfArea2}`, { token: agent1 });
    expect(search.body.total).toBe(0);
    // phone numbers are masked in staff lists too
    expect(all.body.items[0].phoneMasked).toMatch(/^1\d{2}\*{4}\d{4}$/);
  });
});

describe('health', () => {
  it('answers /healthz and /readyz', async () => {
    expect((await t.call('GET', '/healthz')).body).toEqual({ ok: true });
    expect((await t.call('GET', '/readyz')).body).toEqual({ ok: true, db: 'up' });
  });
});

void DEMO;
