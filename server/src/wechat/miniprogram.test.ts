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
  return ((await res.json()) as { code: string }).code;
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
    const msg = {
      touser: openid,
      templateId: 'TPL_PAID',
      page: 'pages/bills/index',
      data: { thing1: { value: '2026-2027采暖费' }, amount2: { value: '¥2345.60' } },
    };
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

  it('maps every jscode2session error through the client', async () => {
    const code = await login('sun');
    await client.code2Session(code);
    const used = await client.code2Session(code).catch((e) => e);
    expect(used).toMatchObject({ errcode: 40163 });
    expect(used.errmsg).toMatch(/^code been used rid: [0-9a-f-]+$/);
    expect(mapLoginError(used)).toBe('WECHAT_CODE_USED');
    const invalid = await client.code2Session('never-issued').catch((e) => e);
    expect(mapLoginError(invalid)).toBe('WECHAT_CODE_INVALID');
    const blocked = await client.code2Session('blocked-1').catch((e) => e);
    expect(blocked).toMatchObject({ errcode: 40226 });
    expect(mapLoginError(blocked)).toBe('WECHAT_BLOCKED');
    const busy = await client.code2Session('busy-1').catch((e) => e);
    expect(busy).toMatchObject({ errcode: -1 });
    expect(mapLoginError(busy)).toBe('WECHAT_UNAVAILABLE');
    const wrongApp = createMiniProgramClient({ baseUrl: sandbox.url, appid: 'wx-other', secret: opts.secret });
    const e13 = await wrongApp.code2Session(await login('sun')).catch((e) => e);
    expect(e13).toMatchObject({ errcode: 40013 });
    expect(mapLoginError(e13)).toBe('WECHAT_UNAVAILABLE');
  });

  it('expires codes after five minutes', async () => {
    let t = Date.parse('2026-11-24T08:00:00Z');
    const sb = await startSandbox({ ...opts, now: () => new Date(t) });
    try {
      const c = createMiniProgramClient({ baseUrl: sb.url, appid: opts.appid, secret: opts.secret });
      const res = await fetch(`${sb.url}/device/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ user: 'late' }),
      });
      const { code } = (await res.json()) as { code: string };
      t += 5 * 60_000 + 1;
      await expect(c.code2Session(code)).rejects.toMatchObject({ errcode: 40029 });
    } finally {
      await sb.close();
    }
  });

  it('limits one user to 100 logins a minute (45011)', async () => {
    const codes = await Promise.all(Array.from({ length: 101 }, () => login('busy-bee')));
    let limited: unknown = null;
    for (const c of codes) {
      const r = await client.code2Session(c).catch((e) => e);
      if (r instanceof WechatApiError) limited = r;
    }
    expect(limited).toMatchObject({ errcode: 45011 });
    expect(mapLoginError(limited)).toBe('WECHAT_RATE_LIMITED');
  });

  it('refreshes the access token once when WeChat says 40001', async () => {
    const { openid } = await client.code2Session(await login('qian'));
    await grant(openid, ['T3'], 'accept');
    await client.sendSubscribeMessage({ touser: openid, templateId: 'T3', data: {} }); // warms the cache
    sandbox.state.accessTokens.clear(); // WeChat forgot every token (e.g. another instance forced a refresh)
    await grant(openid, ['T3'], 'accept');
    expect(await client.sendSubscribeMessage({ touser: openid, templateId: 'T3', data: {} })).toEqual({ ok: true });
    const attempts = sandbox.state.subscribeMessages.filter((m) => m.openid === openid).map((m) => m.errcode);
    expect(attempts).toEqual([0, 40001, 0]);
  });

  it('answers a rejected subscription dialog like wx.requestSubscribeMessage and shows the inbox', async () => {
    const { openid } = await client.code2Session(await login('zhou'));
    expect(await grant(openid, ['A', 'B'], 'reject')).toEqual({ errMsg: 'requestSubscribeMessage:ok', A: 'reject', B: 'reject' });
    expect(await client.sendSubscribeMessage({ touser: openid, templateId: 'A', data: {} })).toMatchObject({ ok: false, errcode: 43101 });
    await grant(openid, ['A'], 'accept');
    await client.sendSubscribeMessage({ touser: openid, templateId: 'A', page: 'pages/index/index', data: { phrase1: { value: '已缴费' } } });
    const inbox = (await (await fetch(`${sandbox.url}/device/messages?openid=${openid}`)).json()) as { items: any[] };
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({ templateId: 'A', page: 'pages/index/index', errcode: 0 });
  });
});
