/**
 * Simulator of the mini-program server API (api.weixin.qq.com) and of the WeChat client's side
 * (`wx.login`, `wx.requestSubscribeMessage`) for the H5 build. Answers like WeChat: HTTP 200 with
 * `errcode`/`errmsg` (ending in " rid: …") on errors; success without errcode.
 */
import crypto from 'node:crypto';
import Router from '@koa/router';
import type { SandboxState, SandboxOptions } from './index';

const CODE_TTL_MS = 5 * 60_000;
const LOGIN_LIMIT_PER_MINUTE = 100;
const TOKEN_TTL_S = 7200;

const rid = () => `${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}-${crypto.randomBytes(4).toString('hex')}`;
const err = (errcode: number, errmsg: string) => ({ errcode, errmsg: `${errmsg} rid: ${rid()}` });

/** The same device user always maps to the same openid/unionid, like one WeChat account. */
export function openidFor(appid: string, user: string): string {
  return 'o' + crypto.createHash('sha256').update(`${appid}:${user}`).digest('base64url').slice(0, 27);
}
function unionidFor(user: string): string {
  return 'u' + crypto.createHash('sha256').update(`union:${user}`).digest('base64url').slice(0, 27);
}

/** Limits of subscription message values, by the key's prefix (thing1, amount2, …). */
const VALUE_RULES: [RegExp, (v: string) => boolean][] = [
  [/^thing\d+$/, (v) => Array.from(v).length <= 20],
  [/^phrase\d+$/, (v) => Array.from(v).length <= 5 && /^[\u4e00-\u9fa5]+$/.test(v)],
  [/^character_string\d+$/, (v) => v.length <= 32 && /^[\x21-\x7e]+$/.test(v)],
  [/^number\d+$/, (v) => /^[0-9.]{1,32}$/.test(v)],
  [/^letter\d+$/, (v) => /^[A-Za-z]{1,32}$/.test(v)],
  [/^amount\d+$/, (v) => /^[¥$￥]?\d{1,10}(\.\d{1,2})?元?$/.test(v)],
  [/^date\d+$/, (v) => /^\d{4}(年\d{1,2}月\d{1,2}日|-\d{2}-\d{2})( \d{1,2}:\d{2})?$/.test(v)],
  [/^time\d+$/, (v) => /^(\d{4}(年\d{1,2}月\d{1,2}日|-\d{2}-\d{2}) )?\d{1,2}:\d{2}( ?~ ?\d{1,2}:\d{2})?$/.test(v)],
  [/^phone_number\d+$/, (v) => /^[\d+\- ]{1,17}$/.test(v)],
  [/^name\d+$/, (v) => Array.from(v).length <= 10],
];

export function miniProgramRoutes(opts: SandboxOptions, state: SandboxState): Router {
  const r = new Router();
  const now = () => (opts.now ? opts.now() : new Date()).getTime();

  const credentialsError = (appid: unknown, secret: unknown) => {
    if (appid !== opts.appid) return err(40013, 'invalid appid');
    if (secret !== opts.secret) return err(40125, 'invalid appsecret');
    return null;
  };

  // ---- wx.login on the device ----------------------------------------------------------------
  r.post('/device/login', (ctx) => {
    const user = String((ctx.request as any).body?.user ?? '').trim();
    if (!user || user.length > 64) {
      ctx.status = 400;
      ctx.body = { errMsg: 'login:fail invalid user' };
      return;
    }
    const code = crypto.randomBytes(16).toString('hex');
    state.codes.set(code, { user, openid: openidFor(opts.appid, user), issuedAt: now(), usedAt: null });
    ctx.body = { errMsg: 'login:ok', code };
  });

  // ---- jscode2session --------------------------------------------------------------------------
  r.get('/sns/jscode2session', (ctx) => {
    const { appid, secret, js_code: code, grant_type: grant } = ctx.query;
    const bad = credentialsError(appid, secret);
    if (bad) return void (ctx.body = bad);
    if (grant !== 'authorization_code') return void (ctx.body = err(40002, 'invalid grant_type'));
    const c = String(code ?? '');
    if (c.startsWith('blocked-')) return void (ctx.body = err(40226, 'code blocked'));
    if (c.startsWith('busy-')) return void (ctx.body = err(-1, 'system error'));
    const issued = state.codes.get(c);
    if (!issued || now() - issued.issuedAt > CODE_TTL_MS) return void (ctx.body = err(40029, 'invalid code'));
    if (issued.usedAt) return void (ctx.body = err(40163, 'code been used'));
    // 100 calls per minute per user, then 45011
    const recent = (state.loginCalls.get(issued.openid) ?? []).filter((t) => now() - t < 60_000);
    if (recent.length >= LOGIN_LIMIT_PER_MINUTE) {
      state.loginCalls.set(issued.openid, recent);
      return void (ctx.body = err(45011, 'api minute-quota reach limit  mustslower  retry next minute'));
    }
    recent.push(now());
    state.loginCalls.set(issued.openid, recent);
    issued.usedAt = now();
    ctx.body = { session_key: crypto.randomBytes(16).toString('base64'), openid: issued.openid, unionid: unionidFor(issued.user) };
  });

  // ---- access tokens --------------------------------------------------------------------------
  const issueToken = () => {
    const value = crypto.randomBytes(48).toString('base64url');
    state.accessTokens.set(value, now() + TOKEN_TTL_S * 1000);
    return { access_token: value, expires_in: TOKEN_TTL_S };
  };
  r.get('/cgi-bin/token', (ctx) => {
    const { grant_type: grant, appid, secret } = ctx.query;
    if (grant !== 'client_credential') return void (ctx.body = err(40002, 'invalid grant_type'));
    ctx.body = credentialsError(appid, secret) ?? issueToken();
  });
  // getStableAccessToken: one token for every caller; normal mode hands out the current one
  // (a new one from 5 minutes before it expires, the old one staying valid until then);
  // force_refresh replaces it at once (the old one dies), at most 20 times a day
  r.post('/cgi-bin/stable_token', (ctx) => {
    const b = (ctx.request as any).body ?? {};
    if (b.grant_type !== 'client_credential') return void (ctx.body = err(40002, 'invalid grant_type'));
    const bad = credentialsError(b.appid, b.secret);
    if (bad) return void (ctx.body = bad);
    const force = b.force_refresh === true;
    state.stableTokenCalls.push({ force, at: now() });
    const cur = state.stableToken;
    const alive = cur && (state.accessTokens.get(cur) ?? 0) > now() ? state.accessTokens.get(cur)! : 0;
    if (force) {
      const today = state.stableTokenCalls.filter((c) => c.force && now() - c.at < 86_400_000).length;
      if (today > 20) return void (ctx.body = err(45009, 'reach max api daily quota limit'));
      if (cur) state.accessTokens.delete(cur);
    } else if (cur && alive - now() > 5 * 60_000) {
      return void (ctx.body = { access_token: cur, expires_in: Math.floor((alive - now()) / 1000) });
    }
    const issued = issueToken();
    state.stableToken = issued.access_token;
    ctx.body = issued;
  });

  // ---- subscription messages ------------------------------------------------------------------
  r.post('/cgi-bin/message/subscribe/send', (ctx) => {
    const token = String(ctx.query.access_token ?? '');
    const b = (ctx.request as any).body ?? {};
    const record = (errcode: number, errmsg: string) => {
      state.subscribeMessages.push({
        openid: String(b.touser ?? ''),
        templateId: String(b.template_id ?? ''),
        page: b.page ?? null,
        data: b.data ?? {},
        state: String(b.miniprogram_state ?? 'formal'),
        errcode,
        at: new Date(now()).toISOString(),
      });
      ctx.body = errcode === 0 ? { errcode: 0, errmsg: 'ok' } : err(errcode, errmsg);
    };
    const expires = state.accessTokens.get(token);
    if (!expires || expires < now()) return record(40001, 'invalid credential, access_token is invalid or not latest');
    if (typeof b.touser !== 'string' || !/^o[\w-]{20,}$/.test(b.touser)) return record(40003, 'invalid openid');
    if (typeof b.template_id !== 'string' || !b.template_id || (opts.templates && !opts.templates.includes(b.template_id)))
      return record(40037, 'invalid template_id');
    if (b.miniprogram_state !== undefined && !['developer', 'trial', 'formal'].includes(b.miniprogram_state))
      return record(47003, 'argument invalid! miniprogram_state invalid');
    if (b.page !== undefined && (typeof b.page !== 'string' || /^https?:/.test(b.page))) return record(41030, 'invalid page');
    for (const [key, v] of Object.entries(b.data ?? {})) {
      const value = String((v as any)?.value ?? '');
      const rule = VALUE_RULES.find(([re]) => re.test(key));
      if (!rule || !rule[1](value)) return record(47003, `argument invalid! data.${key}.value invalid`);
    }
    // one-time subscriptions: each accepted grant allows one message
    const grantKey = `${b.touser}|${b.template_id}`;
    const grants = state.grants.get(grantKey) ?? 0;
    if (grants <= 0) return record(43101, 'user refuse to accept the msg');
    state.grants.set(grantKey, grants - 1);
    record(0, 'ok');
  });

  // ---- wx.requestSubscribeMessage on the device -----------------------------------------------
  r.post('/device/subscribe', (ctx) => {
    const b = (ctx.request as any).body ?? {};
    const openid = b.openid ? String(b.openid) : b.user ? openidFor(opts.appid, String(b.user)) : '';
    const ids: unknown = b.tmplIds;
    if (!Array.isArray(ids) || !ids.length) {
      ctx.status = 400;
      ctx.body = { errMsg: "requestSubscribeMessage:fail TmplIds can't be empty", errCode: 10001 };
      return;
    }
    if (opts.templates && ids.some((id) => !opts.templates!.includes(String(id)))) {
      ctx.status = 400;
      ctx.body = { errMsg: 'requestSubscribeMessage:fail No template data return, verify the template id exist', errCode: 20001 };
      return;
    }
    const decision = b.decision === 'reject' ? 'reject' : 'accept';
    const result: Record<string, string> = { errMsg: 'requestSubscribeMessage:ok' };
    for (const id of ids.map(String)) {
      if (decision === 'accept') state.grants.set(`${openid}|${id}`, (state.grants.get(`${openid}|${id}`) ?? 0) + 1);
      result[id] = decision;
    }
    ctx.body = result;
  });

  /** The demo's "WeChat inbox": messages a user received. */
  r.get('/device/messages', (ctx) => {
    const openid = ctx.query.openid ? String(ctx.query.openid) : openidFor(opts.appid, String(ctx.query.user ?? ''));
    ctx.body = { items: state.subscribeMessages.filter((m) => m.openid === openid && m.errcode === 0) };
  });

  return r;
}
