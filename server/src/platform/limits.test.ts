/**
 * Limits under parallel requests, against the real app (MariaDB with TEST_DATABASE_URL):
 * binding per resident / per account number / per address, staff login lockout with the admin's
 * unlock (and no bcrypt run while locked), invite codes, and the per-resident quotas for group
 * posts and invoice mails. Every limit answers 429 with Retry-After and a Chinese message saying
 * when, with the hotline.
 */
import crypto from 'node:crypto';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../test-support/app';
import { demoHouseholds } from '../demo/seed';
import { BindAttempt } from '../modules/accounts/entities';
import { waitText } from './limits';
import { ConfigError, loadConfig } from '../config';

let t: TestApp;
let now = new Date('2026-11-24T02:00:00Z');
let hotline = '';
const households = demoHouseholds();
let admin: string;

beforeAll(async () => {
  t = await startTestApp({
    seedDemo: true,
    clock: () => now,
    // a small posting quota so the test stays short; everything else at its default
    config: { HB_LIMITS: { 'post.resident': { max: 3, windowMinutes: 10 } } },
  });
  hotline = (await t.services.company.info()).hotline;
  admin = await t.loginStaff('admin');
});
afterAll(async () => t?.close());

const bind = (token: string, body: unknown) => t.call('POST', '/api/v1/accounts/bind', { token, body });
const login = (username: string, password: string) => t.call('POST', '/api/v1/auth/staff/login', { body: { username, password } });

/** What every limit's 429 looks like. */
function expect429(res: { status: number; body: any; headers: Headers }, code: string, seconds: number) {
  expect(res.status).toBe(429);
  expect(res.body.error.code).toBe(code);
  expect(res.headers.get('retry-after')).toBe(String(seconds));
  expect(res.body.error.details.retryAfterSeconds).toBe(seconds);
  expect(res.body.error.message).toContain(`请在 ${waitText(seconds)}后再试`);
  expect(res.body.error.message).toContain(hotline);
  expect(res.body.error.message).not.toMatch(/稍后再试.*后再试|还可尝试0次/);
}

describe('binding', () => {
  it('40 parallel wrong guesses by one resident: only 5 are evaluated', async () => {
    const token = await t.loginResident();
    const h = households[120];
    const before = await t.ds.getRepository(BindAttempt).count();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => bind(token, { accountNo: h.accountNo, phoneLast4: String(1000 + i) })));
    const evaluated = results.filter((r) => r.status === 400);
    const limited = results.filter((r) => r.status === 429);
    // the right last 4 may be among the guesses: it still counts as one of the 5
    expect(evaluated.length + results.filter((r) => r.status === 201).length).toBe(5);
    expect(limited.length).toBe(35);
    expect((await t.ds.getRepository(BindAttempt).count()) - before).toBeLessThanOrEqual(5);
    expect429(limited[0], 'BIND_ATTEMPTS_EXCEEDED', 3600);
  });

  it('new WeChat identities get no fresh tries: residents share the per-account limit', async () => {
    const h = households[121];
    const guessers = await Promise.all(Array.from({ length: 3 }, () => t.loginResident('lim-' + crypto.randomUUID().slice(0, 8))));
    // 2 + 2 + 1 wrong guesses from three residents: the account's 5 are used up
    for (const [i, token] of guessers.entries()) {
      for (let k = 0; k < (i === 2 ? 1 : 2); k++) expect((await bind(token, { accountNo: h.accountNo, ownerName: `猜${i}${k}` })).status).toBe(400);
    }
    const fourth = await t.loginResident('lim-' + crypto.randomUUID().slice(0, 8));
    expect429(await bind(fourth, { accountNo: h.accountNo, ownerName: '再猜' }), 'BIND_ATTEMPTS_EXCEEDED', 3600);
    // also with the right name: the account is locked for the hour, whoever asks
    expect429(await bind(fourth, { accountNo: h.accountNo, ownerName: h.ownerName }), 'BIND_ATTEMPTS_EXCEEDED', 3600);
    // other accounts are unaffected
    const other = households[122];
    expect((await bind(fourth, { accountNo: other.accountNo, ownerName: other.ownerName })).status).toBe(201);
  });

  it('an unknown account number and a wrong fact look the same', async () => {
    const token = await t.loginResident();
    const h = households[123];
    const wrong = await bind(token, { accountNo: h.accountNo, ownerName: '不是户主' });
    const unknown = await bind(token, { accountNo: '8888888888', ownerName: '不是户主' });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body.error.code).toBe(wrong.body.error.code);
    expect(unknown.body.error.message.replace(/\d+次/, '')).toBe(wrong.body.error.message.replace(/\d+次/, ''));
  });
});

describe('staff login', () => {
  it('40 parallel wrong passwords: at most 5 checked, then locked (no bcrypt run) until an admin unlocks', async () => {
    const created = await t.call('POST', '/api/v1/admin/staff', {
      token: admin,
      body: { username: 'lock-me', name: '锁定测试', password: 'right-2026', roles: ['finance'], areaIds: [] },
    });
    expect(created.status).toBe(201);
    const compare = vi.spyOn(bcrypt, 'compare');
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => login('lock-me', `wrong-${i}`)));
      expect(results.filter((r) => r.status === 401).length).toBe(5);
      expect(results.filter((r) => r.status === 429).length).toBe(35);
      expect(compare).toHaveBeenCalledTimes(5);
      const last = results.filter((r) => r.status === 401).find((r) => r.body.error.details.attemptsLeft === 0)!;
      expect(last.body.error.message).toContain('账号已暂时锁定');
      expect(last.body.error.message).not.toContain('还可尝试0次');
      compare.mockClear();
      // the right password is refused while locked, without a bcrypt run
      const locked = await login('lock-me', 'right-2026');
      expect429(locked, 'LOGIN_LOCKED', 900);
      expect(compare).not.toHaveBeenCalled();
    } finally {
      compare.mockRestore();
    }
    // the admin sees the lock and lifts it
    const list = await t.call('GET', '/api/v1/admin/staff', { token: admin });
    expect(list.body.items.find((s: any) => s.id === created.body.id).loginLockedUntil).toBe(new Date(now.getTime() + 900_000).toISOString());
    expect((await t.call('POST', `/api/v1/admin/staff/${created.body.id}/unlock`, { token: admin })).status).toBe(200);
    expect((await t.call('GET', '/api/v1/admin/staff', { token: admin })).body.items.find((s: any) => s.id === created.body.id).loginLockedUntil).toBeNull();
    expect((await login('lock-me', 'right-2026')).status).toBe(200);
    // only admins may unlock
    const finance = await t.loginStaff('finance1');
    expect((await t.call('POST', `/api/v1/admin/staff/${created.body.id}/unlock`, { token: finance })).status).toBe(403);
  });

  it('a successful login forgets earlier failures', async () => {
    for (let i = 0; i < 4; i++) expect((await login('worker1', 'nope')).status).toBe(401);
    expect((await login('worker1', 'demo-2026')).status).toBe(200);
    const again = await login('worker1', 'nope');
    expect(again.body.error.details.attemptsLeft).toBe(4);
    expect((await login('worker1', 'demo-2026')).status).toBe(200);
  });

  it('invite codes: 10 wrong tries per address an hour, then 429', async () => {
    const tries = [];
    for (let i = 0; i < 11; i++) {
      const dev = await t.call('POST', '/sandbox/device/login', { body: { user: 'inv-' + i } });
      tries.push(await t.call('POST', '/api/v1/auth/staff/bind-wechat', { body: { code: dev.body.code, inviteCode: `WRONG${String(i).padStart(3, 'A')}` } }));
    }
    expect(tries.slice(0, 10).map((r) => r.body.error.code)).toEqual(Array(10).fill('INVITE_INVALID'));
    expect429(tries[10], 'RATE_LIMITED', 3600);
  });
});

describe('per-resident quotas', () => {
  it('group posts: over the quota answers 429 and nothing is posted', async () => {
    const token = await t.loginResident();
    const h = households[124];
    expect((await bind(token, { accountNo: h.accountNo, ownerName: h.ownerName })).status).toBe(201);
    const groupId = (await t.call('GET', '/api/v1/groups', { token })).body.items[0].id;
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => t.call('POST', `/api/v1/groups/${groupId}/messages`, { token, body: { text: `第${i}条` } })),
    );
    expect(results.filter((r) => r.status === 201).length, JSON.stringify(results.map((r) => [r.status, r.body?.error?.code]))).toBe(3);
    expect429(
      results.find((r) => r.status === 429)!,
      'RATE_LIMITED',
      600,
    );
    const msgs = await t.call('GET', `/api/v1/groups/${groupId}/messages`, { token });
    expect(msgs.body.items.filter((m: any) => /^第\d条$/.test(m.text)).length).toBe(3);
  });
});

describe('settings', () => {
  it('HB_LIMITS overrides some limits; a bad value stops start-up naming the variable', () => {
    expect(loadConfig({ HB_LIMITS: '{"bind.account":{"max":3,"windowMinutes":30}}' }).HB_LIMITS).toEqual({ 'bind.account': { max: 3, windowMinutes: 30 } });
    for (const bad of ['{not json', '{"bind.acount":{"max":3,"windowMinutes":30}}', '{"bind.account":{"max":0,"windowMinutes":30}}']) {
      expect(() => loadConfig({ HB_LIMITS: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ HB_LIMITS: bad })).toThrow(/HB_LIMITS/);
    }
  });

  it('says how long in plain Chinese', () => {
    expect([30, 60, 61, 23 * 60, 3600, 3601, 5400, 86_400].map(waitText)).toEqual([
      '30 秒',
      '1 分钟',
      '2 分钟',
      '23 分钟',
      '1 小时',
      '1 小时 1 分钟',
      '1 小时 30 分钟',
      '24 小时',
    ]);
  });
});
