/**
 * Simulator of WeChat's content security 2.0 (api.weixin.qq.com/wxa/…): msg_sec_check answers at
 * once, media_check_async answers a trace_id, fetches the image like WeChat does and pushes the
 * verdict (`wxa_media_check`) to the mini-program's message push URL, signed with its Token (and
 * encrypted with its EncodingAESKey in safe mode).
 * Deterministic verdicts for tests and the demo: text containing SANDBOX_RISKY_TEXT is risky,
 * SANDBOX_REVIEW_TEXT is review; an image whose bytes contain SANDBOX_RISKY_IMAGE /
 * SANDBOX_REVIEW_IMAGE likewise; everything else passes.
 */
import crypto from 'node:crypto';
import Router from '@koa/router';
import { encryptPush, pushSignature } from '../wechat/push';
import type { SandboxOptions, SandboxState } from './index';

export const SANDBOX_RISKY_TEXT = '违规测试';
export const SANDBOX_REVIEW_TEXT = '疑似违规';
export const SANDBOX_RISKY_IMAGE = 'SANDBOX-RISKY';
export const SANDBOX_REVIEW_IMAGE = 'SANDBOX-REVIEW';

const LABEL = { pass: 100, review: 21000, risky: 20003 } as const;

export interface MediaCheck {
  traceId: string;
  openid: string;
  mediaUrl: string;
  scene: number;
  suggest: 'pass' | 'review' | 'risky' | null;
  /** HTTP status of each push attempt to the message push URL */
  pushes: number[];
}

export interface SecurityState {
  textChecks: { openid: string; scene: number; content: string; suggest: string; at: string }[];
  mediaChecks: Map<string, MediaCheck>;
  /** wait until every media check has been pushed (tests) */
  settleMediaChecks(): Promise<void>;
  /** tests: hold every verdict until the returned function is called ("WeChat is still checking") */
  holdMediaChecks(): () => void;
  /** fault switch: both APIs answer -1 "system error" (WeChat busy) */
  unavailable: boolean;
}

const rid = () => crypto.randomBytes(6).toString('hex');
const err = (errcode: number, errmsg: string) => ({ errcode, errmsg: `${errmsg} rid: ${rid()}` });

export function createSecuritySimulator(opts: SandboxOptions, tokens: Map<string, number>) {
  const now = () => (opts.now ? opts.now() : new Date()).getTime();
  const inflight = new Set<Promise<void>>();
  let closed = false;
  let gate: Promise<void> | null = null;
  const state: SecurityState = {
    textChecks: [],
    mediaChecks: new Map(),
    unavailable: false,
    async settleMediaChecks() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
    holdMediaChecks() {
      let release!: () => void;
      gate = new Promise<void>((r) => (release = r));
      return () => {
        gate = null;
        release();
      };
    },
  };

  const r = new Router();
  /** common checks of both APIs; an error answer or null */
  const invalid = (token: string, b: any) => {
    const exp = tokens.get(token);
    if (!exp || exp < now()) return err(40001, 'invalid credential, access_token is invalid or not latest');
    if (state.unavailable) return err(-1, 'system error');
    if (b.version !== 2 && b.version !== '2') return err(47001, 'data format error, version must be 2');
    if (typeof b.openid !== 'string' || !/^o[\w-]{20,}$/.test(b.openid)) return err(40003, 'invalid openid');
    if (![1, 2, 3, 4].includes(Number(b.scene))) return err(47001, 'data format error, invalid scene');
    return null;
  };

  r.post('/wxa/msg_sec_check', (ctx) => {
    const b = (ctx.request as any).body ?? {};
    const bad = invalid(String(ctx.query.access_token ?? ''), b);
    if (bad) return void (ctx.body = bad);
    const content = typeof b.content === 'string' ? b.content : '';
    if (!content || content.length > 2500) return void (ctx.body = err(47001, 'data format error, content'));
    const suggest = content.includes(SANDBOX_RISKY_TEXT) ? 'risky' : content.includes(SANDBOX_REVIEW_TEXT) ? 'review' : 'pass';
    state.textChecks.push({ openid: b.openid, scene: Number(b.scene), content, suggest, at: new Date(now()).toISOString() });
    const traceId = `${rid()}-${rid()}`;
    ctx.body = {
      errcode: 0,
      errmsg: 'ok',
      result: { suggest, label: LABEL[suggest] },
      detail: [{ strategy: 'content_model', errcode: 0, suggest, label: LABEL[suggest], prob: suggest === 'pass' ? 0 : 90 }],
      trace_id: traceId,
    };
  });

  r.post('/wxa/media_check_async', (ctx) => {
    const b = (ctx.request as any).body ?? {};
    const bad = invalid(String(ctx.query.access_token ?? ''), b);
    if (bad) return void (ctx.body = bad);
    if (typeof b.media_url !== 'string' || !/^https?:\/\//.test(b.media_url)) return void (ctx.body = err(47001, 'data format error, media_url'));
    if (![1, 2].includes(Number(b.media_type))) return void (ctx.body = err(47001, 'data format error, media_type'));
    const traceId = `${rid()}-${rid()}`;
    const check: MediaCheck = { traceId, openid: b.openid, mediaUrl: b.media_url, scene: Number(b.scene), suggest: null, pushes: [] };
    state.mediaChecks.set(traceId, check);
    const p = verdictLater(check).finally(() => inflight.delete(p));
    inflight.add(p);
    ctx.body = { errcode: 0, errmsg: 'ok', trace_id: traceId };
  });

  async function verdictLater(check: MediaCheck): Promise<void> {
    await new Promise((res) => setTimeout(res, opts.mediaCheckDelayMs ?? 50));
    while (gate) await gate;
    if (closed) return;
    let bytes: Buffer;
    try {
      const res = await fetch(check.mediaUrl, { signal: AbortSignal.timeout(5_000) });
      bytes = res.ok ? Buffer.from(await res.arrayBuffer()) : Buffer.alloc(0);
    } catch {
      bytes = Buffer.alloc(0);
    }
    const text = bytes.toString('latin1');
    check.suggest = text.includes(SANDBOX_RISKY_IMAGE) ? 'risky' : text.includes(SANDBOX_REVIEW_IMAGE) ? 'review' : 'pass';
    const fetched = bytes.length > 0;
    const event = {
      ToUserName: 'gh_sandbox00000',
      FromUserName: 'oSandboxSystem00000000000000',
      CreateTime: Math.floor(now() / 1000),
      MsgType: 'event',
      Event: 'wxa_media_check',
      appid: opts.appid,
      trace_id: check.traceId,
      version: 2,
      detail: [{ strategy: 'content_model', errcode: fetched ? 0 : 8001, suggest: check.suggest, label: LABEL[check.suggest], prob: 90 }],
      errcode: 0,
      errmsg: 'ok',
      result: { suggest: check.suggest, label: LABEL[check.suggest] },
    };
    const push = opts.messagePush;
    if (!push) return;
    // WeChat retries a push that gets no "success" a few times
    for (let attempt = 0; attempt < 3 && !closed; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = String(crypto.randomInt(1e9));
      const q = new URLSearchParams({ signature: pushSignature(push.token, timestamp, nonce), timestamp, nonce });
      let body = JSON.stringify(event);
      if (push.aesKey) {
        const encrypt = encryptPush(push.aesKey, opts.appid, body);
        q.set('encrypt_type', 'aes');
        q.set('msg_signature', pushSignature(push.token, timestamp, nonce, encrypt));
        body = JSON.stringify({ ToUserName: event.ToUserName, Encrypt: encrypt });
      }
      try {
        const res = await fetch(`${push.url}?${q}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5_000),
        });
        check.pushes.push(res.status);
        if (res.ok) return;
      } catch {
        check.pushes.push(0);
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  return {
    state,
    routes: r,
    close() {
      closed = true;
    },
  };
}
