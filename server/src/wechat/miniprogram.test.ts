import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox } from '../sandbox';
import { createMiniProgramClient, mapLoginError, WechatApiError, type MiniProgramClient } from './miniprogram';

const opts = { appid: 'wx-test-app', secret: 's3cret', mchid: '1900000001', apiV3Key: 'k'.repeat(32) };
let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let client: MiniProgramClient;

beforeAll(async () => {
  sandbox = await startSandbox(opts);
  client = createMiniProgramClient({ baseUrl: sandbox.url, appid: opts.appid, secret: opts.secret });
});
afterAll(async () => sandbox?.close());

async function login(user: string): Promise<string> {
  const res = await fetch(`${sandbox.url}/device/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }) });
  return (await res.json()).code;
}

async function grant(openid: string, tmplIds: string[], decision: 'accept' | 'reject') {
  const res = await fetch(`${sandbox.url}/device/subscribe`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ openid, tmplIds, decision }),
  });
  return res.json();
}

describe('mini-program client against the simulator', () => {
  it('exchanges a code for a stable openid and unionid', async () => {
    const a = await client.code2Session(await login('zhang'));
    const b = await client.code2Session(await login('zhang'));
    expect(a.openid).toMatch(/^o[\w-]{27}$/);
    expect(b.openid).toBe(a.openid);
    expect(b.unionid).toBe(a.unionid);
    const other = await client.code2Session(await login('li'));
    expect(other.openid).not.toBe(a.openid);
  });

  it('reports WeChat errors with their codes', async () => {
    await expect(client.code2Session('nope')).rejects.toMatchObject({ errcode: 40029 });
    const wrongSecret = createMiniProgramClient({ baseUrl: sandbox.url, appid: opts.appid, secret: 'wrong' });
    await expect(wrongSecret.code2Session(await login('x'))).rejects.toMatchObject({ errcode: 40125 });
    const down = createMiniProgramClient({ baseUrl: 'http://127.0.0.1:9', appid: opts.appid, secret: opts.secret });
    const err = await down.code2Session('x').catch((e) => e);
    expect(err).toBeInstanceOf(WechatApiError);
    expect(mapLoginError(err)).toBe('WECHAT_UNAVAILABLE');
  });

  it('sends a subscription message only with a grant, once per grant, and records every attempt', async () => {
    const { openid } = await client.code2Session(await login('wang'));
    const msg = { touser: openid, templateId: 'TPL_PAID', page: 'pages/bills/index', data: { thing1: { value: '2026-2027采暖费' }, amount2: { value: '¥2345.60' } } };
    expect(await client.sendSubscribeMessage(msg)).toMatchObject({ ok: false, errcode: 43101 });
    expect(await grant(openid, ['TPL_PAID'], 'accept')).toMatchObject({ TPL_PAID: 'accept' });
    expect(await client.sendSubscribeMessage({ ...msg, data: { ...msg.data, amount2: { value: '2345.60元' } } })).toEqual({ ok: true });
    // the one-time grant is used up
    expect(await client.sendSubscribeMessage(msg)).toMatchObject({ ok: false, errcode: 43101 });
    await grant(openid, ['TPL_PAID'], 'accept');
    const tooLong = await client.sendSubscribeMessage({ ...msg, data: { thing1: { value: '这是一段超过二十个字的事项说明文字会被微信拒绝的' } } });
    expect(tooLong).toMatchObject({ ok: false, errcode: 47003 });
    const sent = sandbox.state.subscribeMessages.filter((m) => m.openid === openid);
    expect(sent.map((m) => m.errcode)).toEqual([43101, 0, 43101, 47003]);
  });

  it('caches the access token', async () => {
    const before = sandbox.state.accessTokens.size;
    const { openid } = await client.code2Session(await login('zhao'));
    await grant(openid, ['T1', 'T2'], 'accept');
    await client.sendSubscribeMessage({ touser: openid, templateId: 'T1', data: {} });
    await client.sendSubscribeMessage({ touser: openid, templateId: 'T2', data: {} });
    expect(sandbox.state.accessTokens.size - before).toBeLessThanOrEqual(1);
  });
});
