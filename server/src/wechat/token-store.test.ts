/**
 * The WeChat access token is one stable token shared by every BFF instance through the database:
 * fetched once, refreshed before it expires by one instance, replaced once when WeChat rejects it.
 * Two clients (two "instances") share one real database and the WeChat simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { startSandbox } from '../sandbox';
import { createDataSource } from '../db';
import { createTestDatabase, type TestDatabase } from '../test-support/db';
import { WechatAccessToken } from '../platform/entities';
import { createMiniProgramClient, type MiniProgramClient } from './miniprogram';
import { dbTokenStore, memoryTokenStore } from './token-store';

const opts = { appid: 'wx-token-test', secret: 's3cret', mchid: '1900000001', apiV3Key: 'k'.repeat(32) };
let t = Date.parse('2026-11-20T02:00:00Z');
const clock = () => t;
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let db: TestDatabase;
let ds: DataSource;
let a: MiniProgramClient;
let b: MiniProgramClient;

beforeAll(async () => {
  sandbox = await startSandbox({ ...opts, now: () => new Date(t) });
  db = await createTestDatabase();
  ds = createDataSource({ url: db.url, sqlitePath: db.url ? undefined : ':memory:', synchronize: true });
  await ds.initialize();
  const instance = () =>
    createMiniProgramClient({ baseUrl: sandbox.url, appid: opts.appid, secret: opts.secret, now: clock, tokenStore: dbTokenStore(ds, opts.appid, clock) });
  a = instance();
  b = instance();
});
afterAll(async () => {
  await sandbox?.close();
  if (ds?.isInitialized) await ds.destroy();
  await db?.drop();
});

async function openid(user: string) {
  const res = await fetch(`${sandbox.url}/device/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }) });
  const { code } = (await res.json()) as { code: string };
  return (await a.code2Session(code)).openid;
}
async function send(client: MiniProgramClient, to: string) {
  await fetch(`${sandbox.url}/device/subscribe`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ openid: to, tmplIds: ['T'] }),
  });
  return client.sendSubscribeMessage({ touser: to, templateId: 'T', data: {} });
}

describe('the shared stable access token', () => {
  it('is fetched once for every instance with getStableAccessToken, and kept in the database', async () => {
    const to = await openid('tok-1');
    const results = await Promise.all([send(a, to), send(b, to), send(a, to), send(b, to)]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(sandbox.state.stableTokenCalls).toHaveLength(1);
    expect(sandbox.state.accessTokens.size).toBe(1); // never /cgi-bin/token
    const row = await ds.getRepository(WechatAccessToken).findOneByOrFail({ appid: opts.appid });
    expect(row.value).toBe(sandbox.state.stableToken);
    expect(row.refreshAt.getTime()).toBe(t + (7200 - 300) * 1000);
  });

  it('is refreshed by one instance shortly before it expires', async () => {
    const to = await openid('tok-2');
    const before = sandbox.state.stableToken;
    const calls = sandbox.state.stableTokenCalls.length;
    t += (7200 - 299) * 1000; // inside WeChat's last 5 minutes
    expect((await Promise.all([send(a, to), send(b, to)])).every((r) => r.ok)).toBe(true);
    expect(sandbox.state.stableTokenCalls.length - calls).toBe(1);
    expect(sandbox.state.stableToken).not.toBe(before);
    expect((await ds.getRepository(WechatAccessToken).findOneByOrFail({ appid: opts.appid })).value).toBe(sandbox.state.stableToken);
  });

  it('is replaced once when WeChat rejects it (40001), and the other instance picks up the new one', async () => {
    const to = await openid('tok-3');
    expect((await send(b, to)).ok).toBe(true); // b caches the current token in memory
    const calls = sandbox.state.stableTokenCalls.length;
    sandbox.state.accessTokens.clear(); // WeChat forgot it
    expect((await send(a, to)).ok).toBe(true);
    expect((await send(b, to)).ok).toBe(true);
    expect(sandbox.state.stableTokenCalls.length - calls).toBe(1);
    const attempts = sandbox.state.subscribeMessages.filter((m) => m.openid === to).map((m) => m.errcode);
    expect(attempts).toEqual([0, 40001, 0, 40001, 0]);
  });

  it('forces a refresh when WeChat hands back the token it just rejected', async () => {
    const calls: boolean[] = [];
    const store = memoryTokenStore(() => 0);
    const fetcher = async (force: boolean) => (calls.push(force), { value: force ? 'new' : 'old', expiresInS: 7200 });
    expect((await store.get(fetcher)).value).toBe('old');
    expect((await store.get(fetcher, { stale: 'old' })).value).toBe('new');
    expect(calls).toEqual([false, false, true]);
  });
});
