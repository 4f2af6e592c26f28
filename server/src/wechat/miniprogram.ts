import { memoryTokenStore, type StoredToken, type TokenStore } from './token-store';

/**
 * The BFF's client for the WeChat mini-program server API (api.weixin.qq.com): code2Session,
 * the stable access token (getStableAccessToken, kept in a TokenStore every instance shares,
 * refreshed early and once on 40001), subscription messages.
 * It knows only a base URL: the sandbox simulator in sandbox mode, WeChat in production.
 */
export interface SubscribeMessage {
  touser: string;
  templateId: string;
  page?: string;
  data: Record<string, { value: string }>;
  miniprogramState?: 'developer' | 'trial' | 'formal';
}

export type SendResult = { ok: true } | { ok: false; errcode: number; errmsg: string };

export interface MiniProgramClient {
  code2Session(code: string): Promise<{ openid: string; unionid?: string; sessionKey: string }>;
  sendSubscribeMessage(msg: SubscribeMessage): Promise<SendResult>;
  /** Content security 2.0 for text (the user must have opened the mini-program in the last 2 hours). */
  msgSecCheck(input: { openid: string; scene: SecScene; content: string }): Promise<{ suggest: SecSuggest; label: number; traceId: string }>;
  /** Content security 2.0 for an image at a URL WeChat can fetch; the verdict is pushed later (wxa_media_check). */
  mediaCheckAsync(input: { openid: string; scene: SecScene; mediaUrl: string }): Promise<{ traceId: string }>;
}

/** WeChat's content-security scenes: 1 资料 (profile), 2 评论 (comment), 3 论坛 (forum), 4 社交日志 (social log). */
export type SecScene = 1 | 2 | 3 | 4;
export type SecSuggest = 'pass' | 'review' | 'risky';

/** An error answer from WeChat (errcode ≠ 0), or -1 for a network failure. */
export class WechatApiError extends Error {
  constructor(
    public readonly errcode: number,
    public readonly errmsg: string,
  ) {
    super(`WeChat API error ${errcode}: ${errmsg}`);
  }
}

/** jscode2session errcode -> the BFF's error code. */
export function mapLoginError(err: unknown): 'WECHAT_CODE_INVALID' | 'WECHAT_CODE_USED' | 'WECHAT_RATE_LIMITED' | 'WECHAT_BLOCKED' | 'WECHAT_UNAVAILABLE' {
  const code = err instanceof WechatApiError ? err.errcode : -1;
  switch (code) {
    case 40029:
      return 'WECHAT_CODE_INVALID';
    case 40163:
      return 'WECHAT_CODE_USED';
    case 45011:
      return 'WECHAT_RATE_LIMITED';
    case 40226:
      return 'WECHAT_BLOCKED';
    default:
      return 'WECHAT_UNAVAILABLE';
  }
}

export interface MiniProgramClientOptions {
  baseUrl: string;
  appid: string;
  secret: string;
  timeoutMs?: number;
  now?: () => number;
  /** injectable for tests; default the global fetch */
  fetch?: typeof fetch;
  /** where the access token lives; default this process only (production: dbTokenStore) */
  tokenStore?: TokenStore;
}

export function createMiniProgramClient(opts: MiniProgramClientOptions): MiniProgramClient {
  const now = opts.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const doFetch = opts.fetch ?? fetch;
  const store = opts.tokenStore ?? memoryTokenStore(now);
  let token: StoredToken | null = null;
  let inflight: Promise<string> | null = null;

  async function call(path: string, init?: { method?: string; body?: unknown }): Promise<any> {
    let res: Response;
    try {
      res = await doFetch(opts.baseUrl + path, {
        method: init?.method ?? 'GET',
        headers: init?.body ? { 'Content-Type': 'application/json' } : undefined,
        body: init?.body ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err: any) {
      throw new WechatApiError(-1, `network: ${err?.message ?? err}`);
    }
    let json: any;
    try {
      json = await res.json();
    } catch {
      throw new WechatApiError(-1, `bad response (HTTP ${res.status})`);
    }
    if (typeof json.errcode === 'number' && json.errcode !== 0) throw new WechatApiError(json.errcode, String(json.errmsg ?? ''));
    return json;
  }

  const fetchStable = async (forceRefresh: boolean) => {
    const json = await call('/cgi-bin/stable_token', {
      method: 'POST',
      body: { grant_type: 'client_credential', appid: opts.appid, secret: opts.secret, force_refresh: forceRefresh },
    });
    return { value: String(json.access_token), expiresInS: Number(json.expires_in) };
  };

  /** The shared token; `rejected` = WeChat just answered 40001/42001 to this one. */
  async function accessToken(rejected?: string): Promise<string> {
    if (!rejected && token && now() < token.refreshAt) return token.value;
    // one refresher per process; the store keeps instances to one at a time
    if (!inflight) {
      inflight = store
        .get(fetchStable, { stale: rejected })
        .then((t) => {
          token = t;
          return t.value;
        })
        .finally(() => (inflight = null));
    }
    return inflight;
  }

  return {
    async code2Session(code) {
      const q = new URLSearchParams({ appid: opts.appid, secret: opts.secret, js_code: code, grant_type: 'authorization_code' });
      const json = await call(`/sns/jscode2session?${q}`);
      if (!json.openid) throw new WechatApiError(-1, 'no openid in jscode2session answer');
      return { openid: json.openid, unionid: json.unionid, sessionKey: json.session_key };
    },

    async sendSubscribeMessage(msg) {
      const body = {
        touser: msg.touser,
        template_id: msg.templateId,
        page: msg.page,
        miniprogram_state: msg.miniprogramState ?? 'formal',
        lang: 'zh_CN',
        data: msg.data,
      };
      try {
        await withToken('/cgi-bin/message/subscribe/send', body);
        return { ok: true };
      } catch (err) {
        if (err instanceof WechatApiError && err.errcode !== -1) return { ok: false, errcode: err.errcode, errmsg: err.errmsg };
        throw err;
      }
    },

    async msgSecCheck(input) {
      const json = await withToken('/wxa/msg_sec_check', { content: input.content, version: 2, scene: input.scene, openid: input.openid });
      const suggest = json?.result?.suggest;
      if (suggest !== 'pass' && suggest !== 'review' && suggest !== 'risky') throw new WechatApiError(-1, 'msg_sec_check: no result.suggest');
      return { suggest, label: Number(json.result.label ?? 0), traceId: String(json.trace_id ?? '') };
    },

    async mediaCheckAsync(input) {
      const json = await withToken('/wxa/media_check_async', {
        media_url: input.mediaUrl,
        media_type: 2,
        version: 2,
        scene: input.scene,
        openid: input.openid,
      });
      if (!json?.trace_id) throw new WechatApiError(-1, 'media_check_async: no trace_id');
      return { traceId: String(json.trace_id) };
    },
  };

  /** POST with the access token; a rejected token (40001/42001) is replaced once. */
  async function withToken(path: string, body: unknown): Promise<any> {
    let rejected: string | undefined;
    for (let attempt = 0; ; attempt++) {
      const value = await accessToken(rejected);
      try {
        return await call(`${path}?access_token=${encodeURIComponent(value)}`, { method: 'POST', body });
      } catch (err) {
        if (err instanceof WechatApiError && (err.errcode === 40001 || err.errcode === 42001) && attempt === 0) {
          rejected = value;
          continue;
        }
        throw err;
      }
    }
  }
}
