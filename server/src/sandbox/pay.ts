/**
 * Simulator of WeChat Pay API v3 (api.mch.weixin.qq.com) for one direct merchant, plus the
 * WeChat client's payment sheet (`wx.requestPayment`) for the H5 build. Protocol facts and their
 * sources: /work/shared/wechat-protocols.md §1–§4. Every request is verified like WeChat does
 * (RSA-SHA256 over METHOD\nURL\nTS\nNONCE\nBODY\n with the merchant certificate), every 2xx
 * answer is signed with the platform key, and notifications are encrypted with AEAD_AES_256_GCM
 * under the APIv3 key and signed with the platform key, then retried on WeChat's schedule.
 *
 * Choices where the protocol notes are [U] (unconfirmed):
 * - "already paid" on prepay/close: `400 ORDER_PAID` "该订单已支付". v2 spelled it ORDERPAID;
 *   live v3 replies use underscored codes (ORDER_NOT_EXIST, ORDER_CLOSED, OUT_TRADE_NO_USED), and
 *   the official FAQ writes ORDER_PAID. Clients must not depend on the exact string: on any
 *   non-2xx from close they should query the order and act on `trade_state`.
 * - same out_trade_no with other params: `403 OUT_TRADE_NO_USED` "商户订单号重复" (current doc's table).
 * - refund over the refundable amount: `400 INVALID_REQUEST` "申请退款金额超过订单可退金额"
 *   (403 NOT_ENOUGH is the merchant's *balance*, a different condition).
 * - orders past `time_expire` stay NOTPAY in queries (they can no longer be paid) until the
 *   merchant closes them or WeChat auto-closes them 7 days after creation; prepay_id lives 2 h.
 * - 4xx answers other than SIGN_ERROR are signed too (clients verify only 2xx anyway).
 * - notify_url may be http:// here because the sandbox lives on loopback (WeChat requires https).
 * - each notification attempt is signed afresh (new timestamp/nonce, same body): receivers
 *   reject timestamps older than 5 minutes, and WeChat retries for 24 hours.
 */
import crypto from 'node:crypto';
import Router from '@koa/router';
import type Koa from 'koa';
import type { SandboxOptions } from './index';
import { openidFor as openidOf } from './miniprogram';
import { sandboxKeys } from './keys';
import { tradeBillRoutes } from './bills';

/** WeChat's retry schedule after a failed notification (15 retries, ≈24 h). */
export const WECHAT_NOTIFY_RETRY_SCHEDULE_MS = [15, 15, 30, 180, 600, 1200, 1800, 1800, 1800, 3600, 10800, 10800, 10800, 21600, 21600].map((s) => s * 1000);

const PREPAY_TTL_MS = 2 * 3600_000;
const AUTO_CLOSE_MS = 7 * 24 * 3600_000;
const SKEW_S = 300;
const OUT_TRADE_NO = /^[0-9A-Za-z_\-|*]{6,32}$/;
const OUT_REFUND_NO = /^[0-9A-Za-z_\-|*@]{1,64}$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

export type TradeState = 'NOTPAY' | 'SUCCESS' | 'CLOSED' | 'REFUND';

export interface PayOrder {
  appid: string;
  mchid: string;
  outTradeNo: string;
  description: string;
  attach: string | null;
  notifyUrl: string;
  /** as sent (RFC 3339) */
  timeExpire: string | null;
  total: number;
  currency: string;
  openid: string;
  prepayId: string;
  prepayIssuedAt: number;
  createdAt: number;
  tradeState: TradeState;
  transactionId: string | null;
  /** ms */
  successAt: number | null;
  closedAt: number | null;
  /** canonical JSON of the create request, for re-entrancy */
  paramsKey: string;
}

export interface PayRefund {
  refundId: string;
  outRefundNo: string;
  outTradeNo: string;
  transactionId: string;
  reason: string | null;
  notifyUrl: string | null;
  fundsAccount: string;
  refund: number;
  total: number;
  status: 'PROCESSING' | 'SUCCESS';
  createdAt: number;
  successAt: number | null;
  paramsKey: string;
}

export interface NotificationEvent {
  id: string;
  eventType: string;
  url: string;
  /** the exact body bytes sent on every attempt */
  body: string;
  outTradeNo: string | null;
  outRefundNo: string | null;
  attempts: number;
  delivered: boolean;
}

export interface NotificationAttempt {
  eventId: string;
  eventType: string;
  url: string;
  attempt: number;
  /** HTTP status of the receiver's answer; null = no answer (network error, timeout) */
  status: number | null;
  error?: string;
  at: string;
}

export interface BuildNotificationInput {
  /** the resource's plaintext: an object (JSON-encoded) or a raw string */
  plaintext: unknown;
  eventType?: string;
  summary?: string;
  /** resource.original_type and associated_data; default 'transaction' */
  originalType?: string;
  associatedData?: string;
  id?: string;
  /** unix seconds for Wechatpay-Timestamp; default now */
  timestamp?: number;
  /** 12 characters; default random */
  gcmNonce?: string;
  apiV3Key?: string;
  /** sign with another key / announce another serial (tests of rejection paths) */
  signingKeyPem?: string;
  serial?: string;
}

export interface BuiltNotification {
  body: string;
  headers: Record<string, string>;
}

/** The state-level helpers tests and the demo use. Merged into SandboxState. */
export interface PaySimulatorState {
  orders: Map<string, PayOrder>;
  refunds: Map<string, PayRefund>;
  notificationEvents: Map<string, NotificationEvent>;
  /** every delivery attempt, in order */
  notifications: NotificationAttempt[];
  /** Mark an order paid WITHOUT notifying (a lost notification: the BFF must query). */
  markOrderPaid(outTradeNo: string): PayOrder;
  /** Deliver a recorded notification again, `times` times in a row (no retry scheduling). */
  redeliverNotification(eventId: string, times?: number): Promise<NotificationAttempt[]>;
  /** Build a signed, encrypted notification for an arbitrary plaintext (tests may tamper). */
  buildNotification(input: BuildNotificationInput): BuiltNotification;
  /** POST one `WECHATPAY/SIGNTEST/` probe to a URL, like WeChat does now and then. */
  sendSigntestProbe(url: string): Promise<NotificationAttempt>;
  /** Finish a PROCESSING refund now (and notify), instead of waiting for the timer. */
  completeRefund(outRefundNo: string): Promise<PayRefund>;
  /** Resolve when every delivery in flight has finished (retries still pending stay scheduled). */
  settleNotifications(): Promise<void>;
}

// ------------------------------------------------------------------------------------------------
// helpers

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
function randomAlnum(n: number): string {
  const bytes = crypto.randomBytes(n);
  let s = '';
  for (let i = 0; i < n; i++) s += ALNUM[bytes[i] % ALNUM.length];
  return s;
}
function randomDigits(n: number): string {
  let s = '';
  while (s.length < n) s += crypto.randomInt(0, 1_000_000_000).toString().padStart(9, '0');
  return s.slice(0, n);
}

/** RFC 3339 in China time, no millis: 2018-06-08T10:34:56+08:00 */
export function chinaTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
}
function chinaCompact(ms: number): string {
  return chinaTime(ms).slice(0, 19).replace(/[-T:]/g, '');
}

/** JSON with object keys sorted at every level: the identity of a request's parameters. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function parseAuthorization(header: string): Record<string, string> | null {
  const prefix = 'WECHATPAY2-SHA256-RSA2048 ';
  if (!header.startsWith(prefix)) return null;
  const out: Record<string, string> = {};
  const re = /\s*(\w+)="([^"]*)"\s*(,|$)/gy;
  const rest = header.slice(prefix.length);
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(rest))) {
    out[m[1]] = m[2];
    consumed = re.lastIndex;
    if (consumed >= rest.length) break;
  }
  if (consumed < rest.trimEnd().length) return null;
  for (const k of ['mchid', 'nonce_str', 'timestamp', 'serial_no', 'signature']) if (!out[k]) return null;
  return out;
}

async function readRaw(ctx: Koa.Context, limit = 1 << 20): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > limit) ctx.throw(413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

class PayError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}
const paramError = (field: string, issue: string, location = 'body', value?: unknown) =>
  new PayError(400, 'PARAM_ERROR', `参数错误：${issue}`, { field, value: value ?? null, issue, location });

// ------------------------------------------------------------------------------------------------

export interface PaySimulator {
  state: PaySimulatorState;
  routes: Router;
  /** middleware for /v3/*: raw body, request signature, response signature */
  middleware: Koa.Middleware;
  close(): void;
}

export function createPaySimulator(opts: SandboxOptions): PaySimulator {
  const keys = sandboxKeys();
  const merchantCertPem = opts.merchantCertPem ?? keys.merchantCertPem;
  const merchantPublicKey = crypto.createPublicKey(merchantCertPem);
  const merchantSerial = new crypto.X509Certificate(merchantCertPem).serialNumber.toUpperCase();
  const platformKey = crypto.createPrivateKey(opts.platformKeyPem ?? keys.platformKeyPem);
  const platformSerial = opts.platformSerial ?? keys.platformSerial;
  const schedule = opts.notifyRetryScheduleMs ?? WECHAT_NOTIFY_RETRY_SCHEDULE_MS;
  const refundDelayMs = opts.refundSuccessDelayMs ?? 3000;
  const now = () => (opts.now ? opts.now() : new Date()).getTime();
  const timers = new Set<NodeJS.Timeout>();
  const inflight = new Set<Promise<unknown>>();
  let closed = false;

  const orders = new Map<string, PayOrder>();
  const byPrepay = new Map<string, string>();
  const byTransaction = new Map<string, string>();
  const refunds = new Map<string, PayRefund>();
  const events = new Map<string, NotificationEvent>();
  const attempts: NotificationAttempt[] = [];

  const later = (ms: number, fn: () => void) => {
    if (closed) return;
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.finally(() => inflight.delete(p)).catch(() => {});
    return p;
  };

  // ---- signatures --------------------------------------------------------------------------------
  const sign = (message: string, key: crypto.KeyObject | string = platformKey) => crypto.createSign('RSA-SHA256').update(message).sign(key, 'base64');

  function encryptResource(plaintext: string, aad: string, nonce: string, apiV3Key = opts.apiV3Key): string {
    const cipher = crypto.createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
    cipher.setAAD(Buffer.from(aad, 'utf8'));
    const enc = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return enc.toString('base64');
  }

  function signedHeaders(body: string, o: { timestamp?: number; signingKeyPem?: string; serial?: string } = {}) {
    const ts = String(o.timestamp ?? Math.floor(now() / 1000));
    const nonce = randomAlnum(32);
    return {
      'wechatpay-nonce': nonce,
      'wechatpay-timestamp': ts,
      'wechatpay-signature': sign(`${ts}\n${nonce}\n${body}\n`, o.signingKeyPem ?? platformKey),
      'wechatpay-serial': o.serial ?? platformSerial,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    };
  }

  function buildNotification(input: BuildNotificationInput): BuiltNotification {
    const originalType = input.originalType ?? 'transaction';
    const aad = input.associatedData ?? originalType;
    const nonce = input.gcmNonce ?? randomAlnum(12);
    const plaintext = typeof input.plaintext === 'string' ? input.plaintext : JSON.stringify(input.plaintext);
    const envelope = {
      id: input.id ?? crypto.randomUUID(),
      create_time: chinaTime(now()),
      resource_type: 'encrypt-resource',
      event_type: input.eventType ?? 'TRANSACTION.SUCCESS',
      summary: input.summary ?? '支付成功',
      resource: {
        original_type: originalType,
        algorithm: 'AEAD_AES_256_GCM',
        ciphertext: encryptResource(plaintext, aad, nonce, input.apiV3Key),
        associated_data: aad,
        nonce,
      },
    };
    const body = JSON.stringify(envelope);
    return { body, headers: notificationHeaders(body, input) };
  }

  function notificationHeaders(body: string, o: { timestamp?: number; signingKeyPem?: string; serial?: string } = {}) {
    return {
      'content-type': 'application/json',
      'user-agent': 'Mozilla/4.0',
      accept: '*/*',
      pragma: 'no-cache',
      ...signedHeaders(body, o),
    };
  }

  // ---- notifications -----------------------------------------------------------------------------
  async function attempt(url: string, body: string, headers: Record<string, string>, ev: { id: string; eventType: string }, n: number) {
    const rec: NotificationAttempt = { eventId: ev.id, eventType: ev.eventType, url, attempt: n, status: null, at: new Date(now()).toISOString() };
    try {
      const res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5000) });
      rec.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (err: any) {
      rec.error = String(err?.cause?.code ?? err?.name ?? err?.message ?? err);
    }
    attempts.push(rec);
    return rec;
  }
  const isAck = (status: number | null) => status === 200 || status === 204;

  function deliver(ev: NotificationEvent): Promise<NotificationAttempt> {
    return track(
      (async () => {
        ev.attempts += 1;
        const rec = await attempt(ev.url, ev.body, notificationHeaders(ev.body), ev, ev.attempts);
        if (isAck(rec.status)) ev.delivered = true;
        else {
          const retryIndex = ev.attempts - 1; // attempt 1 failed -> schedule[0]
          if (retryIndex < schedule.length) later(schedule[retryIndex], () => void deliver(ev));
        }
        return rec;
      })(),
    );
  }

  function notify(
    url: string,
    eventType: string,
    summary: string,
    originalType: string,
    plaintext: object,
    ref: { outTradeNo?: string; outRefundNo?: string },
  ) {
    const built = buildNotification({ plaintext, eventType, summary, originalType });
    const id = JSON.parse(built.body).id as string;
    const ev: NotificationEvent = {
      id,
      eventType,
      url,
      body: built.body,
      outTradeNo: ref.outTradeNo ?? null,
      outRefundNo: ref.outRefundNo ?? null,
      attempts: 0,
      delivered: false,
    };
    events.set(id, ev);
    void deliver(ev);
    return ev;
  }

  // ---- order views -------------------------------------------------------------------------------
  function refresh(o: PayOrder): PayOrder {
    if (o.tradeState === 'NOTPAY' && now() - o.createdAt > AUTO_CLOSE_MS) {
      o.tradeState = 'CLOSED';
      o.closedAt = o.createdAt + AUTO_CLOSE_MS;
    }
    return o;
  }

  function paidView(o: PayOrder) {
    return {
      mchid: o.mchid,
      appid: o.appid,
      out_trade_no: o.outTradeNo,
      transaction_id: o.transactionId!,
      trade_type: 'JSAPI',
      trade_state: o.tradeState,
      trade_state_desc: o.tradeState === 'REFUND' ? '订单发生过退款，退款详情请查询退款单号' : '支付成功',
      bank_type: 'OTHERS',
      attach: o.attach ?? '',
      success_time: chinaTime(o.successAt!),
      payer: { openid: o.openid },
      amount: { total: o.total, payer_total: o.total, currency: o.currency, payer_currency: o.currency },
    };
  }

  function orderView(o: PayOrder) {
    refresh(o);
    if (o.tradeState === 'SUCCESS' || o.tradeState === 'REFUND') return { ...paidView(o), promotion_detail: [] };
    // real NOTPAY reply (keys in WeChat's order); CLOSED has the same shape
    return {
      amount: { payer_currency: o.currency, total: o.total },
      appid: o.appid,
      ...(o.attach !== null ? { attach: o.attach } : {}),
      mchid: o.mchid,
      out_trade_no: o.outTradeNo,
      promotion_detail: [],
      scene_info: { device_id: '' },
      trade_state: o.tradeState,
      trade_state_desc: o.tradeState === 'CLOSED' ? '订单已关闭' : '订单未支付',
    };
  }

  function refundView(r: PayRefund) {
    return {
      refund_id: r.refundId,
      out_refund_no: r.outRefundNo,
      transaction_id: r.transactionId,
      out_trade_no: r.outTradeNo,
      channel: 'ORIGINAL',
      user_received_account: '支付用户零钱',
      ...(r.successAt ? { success_time: chinaTime(r.successAt) } : {}),
      create_time: chinaTime(r.createdAt),
      status: r.status,
      funds_account: r.fundsAccount,
      amount: {
        total: r.total,
        refund: r.refund,
        from: [],
        payer_total: r.total,
        payer_refund: r.refund,
        settlement_refund: r.refund,
        settlement_total: r.total,
        discount_refund: 0,
        currency: 'CNY',
        refund_fee: 0,
      },
      promotion_detail: [],
    };
  }

  function pay(o: PayOrder, notifyNow: boolean) {
    o.tradeState = 'SUCCESS';
    o.successAt = now();
    o.transactionId = '420000' + randomDigits(4) + chinaCompact(now()).slice(0, 8) + randomDigits(10);
    byTransaction.set(o.transactionId, o.outTradeNo);
    if (notifyNow) notify(o.notifyUrl, 'TRANSACTION.SUCCESS', '支付成功', 'transaction', paidView(o), { outTradeNo: o.outTradeNo });
  }

  async function finishRefund(r: PayRefund): Promise<PayRefund> {
    if (r.status !== 'PROCESSING') return r;
    r.status = 'SUCCESS';
    r.successAt = now();
    if (r.notifyUrl) {
      notify(
        r.notifyUrl,
        'REFUND.SUCCESS',
        '退款成功',
        'refund',
        {
          mchid: opts.mchid,
          transaction_id: r.transactionId,
          out_trade_no: r.outTradeNo,
          refund_id: r.refundId,
          out_refund_no: r.outRefundNo,
          refund_status: 'SUCCESS',
          success_time: chinaTime(r.successAt),
          user_received_account: '支付用户零钱',
          amount: { total: r.total, refund: r.refund, payer_total: r.total, payer_refund: r.refund },
        },
        { outTradeNo: r.outTradeNo, outRefundNo: r.outRefundNo },
      );
    }
    return r;
  }

  // ---- middleware: raw body, request signature, response signature -------------------------------
  const middleware: Koa.Middleware = async (ctx, next) => {
    if (!ctx.path.startsWith('/v3/')) return next();
    const requestId = crypto.randomBytes(20).toString('hex').toUpperCase() + '-0';
    ctx.set('Request-ID', requestId);
    const raw = ['POST', 'PUT', 'PATCH'].includes(ctx.method) ? await readRaw(ctx) : '';
    const signError = (message: string) => {
      ctx.status = 401;
      ctx.body = { code: 'SIGN_ERROR', message };
    };
    const auth = parseAuthorization(ctx.get('Authorization'));
    if (!auth) return signError('Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》');
    if (auth.mchid !== opts.mchid) return signError('Http头Authorization中的商户号与证书不匹配');
    if (auth.serial_no.toUpperCase() !== merchantSerial) return signError('商户证书序列号有误。请使用签名私钥匹配的证书序列号');
    const ts = Number(auth.timestamp);
    if (!/^\d{10}$/.test(auth.timestamp) || Math.abs(now() / 1000 - ts) > SKEW_S) {
      return signError('Http头Authorization中的timestamp与当前时间相差过大，请检查系统时间');
    }
    const message = `${ctx.method}\n${ctx.url}\n${auth.timestamp}\n${auth.nonce_str}\n${raw}\n`;
    let ok = false;
    try {
      ok = crypto.createVerify('RSA-SHA256').update(message).verify(merchantPublicKey, auth.signature, 'base64');
    } catch {
      ok = false;
    }
    if (!ok) return signError('签名错误，请检查后再试');

    try {
      if (raw) {
        try {
          (ctx.request as any).body = JSON.parse(raw);
        } catch {
          throw new PayError(400, 'PARAM_ERROR', '请求体不是合法的JSON');
        }
      } else (ctx.request as any).body = {};
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new PayError(404, 'NOT_FOUND', '请求的资源不存在');
    } catch (err) {
      if (!(err instanceof PayError)) throw err;
      ctx.status = err.status;
      ctx.body = { code: err.code, message: err.message, ...(err.detail ? { detail: err.detail } : {}) };
    }
    if (ctx.state.unsignedResponse) return;
    // sign the exact bytes we send
    const body = ctx.status === 204 || ctx.body == null ? '' : typeof ctx.body === 'string' ? ctx.body : JSON.stringify(ctx.body);
    if (ctx.status !== 204) {
      ctx.body = body;
      ctx.type = 'application/json; charset=utf-8';
    }
    const h = signedHeaders(body);
    ctx.set('Wechatpay-Nonce', h['wechatpay-nonce']);
    ctx.set('Wechatpay-Timestamp', h['wechatpay-timestamp']);
    ctx.set('Wechatpay-Signature', h['wechatpay-signature']);
    ctx.set('Wechatpay-Serial', h['wechatpay-serial']);
    ctx.set('Wechatpay-Signature-Type', h['wechatpay-signature-type']);
  };

  // ---- routes ------------------------------------------------------------------------------------
  const r = new Router();
  const body = (ctx: Koa.Context) => ((ctx.request as any).body ?? {}) as Record<string, any>;
  const requireMchidQuery = (ctx: Koa.Context) => {
    const m = ctx.query.mchid;
    if (!m)
      throw new PayError(400, 'PARAM_ERROR', '输入源“/query/mchid”映射到字段“直连商户号”必填性规则校验失败，此字段为必填项', { location: 'query', value: '' });
    if (m !== opts.mchid) throw new PayError(400, 'INVALID_REQUEST', '商户号与请求签名的商户号不一致');
  };

  r.post('/v3/pay/transactions/jsapi', (ctx) => {
    const b = body(ctx);
    if (typeof b.appid !== 'string' || !b.appid) throw paramError('/appid', 'appid 为必填项');
    if (typeof b.mchid !== 'string' || !b.mchid) throw paramError('/mchid', 'mchid 为必填项');
    if (b.appid !== opts.appid || b.mchid !== opts.mchid) throw new PayError(400, 'APPID_MCHID_NOT_MATCH', 'appid和mch_id不匹配，请检查后再试');
    if (typeof b.description !== 'string' || !b.description || Array.from(b.description).length > 127)
      throw paramError('/description', 'description 长度须为1-127个字符', 'body', b.description);
    if (typeof b.out_trade_no !== 'string' || !OUT_TRADE_NO.test(b.out_trade_no)) {
      throw paramError('/out_trade_no', 'out_trade_no 须为6-32位数字、大小写字母或_-|*', 'body', b.out_trade_no);
    }
    if (b.attach !== undefined && (typeof b.attach !== 'string' || Array.from(b.attach).length > 128)) throw paramError('/attach', 'attach 最长128个字符');
    if (typeof b.notify_url !== 'string' || !/^https?:\/\/[^?#\s]+$/.test(b.notify_url)) {
      throw paramError('/notify_url', 'notify_url 须为不带查询参数的完整URL', 'body', b.notify_url);
    }
    const total = b.amount?.total;
    if (!Number.isInteger(total) || total < 1) throw paramError('/amount/total', 'amount.total 须为不小于1的整数（单位：分）', 'body', total);
    if (b.amount.currency !== undefined && b.amount.currency !== 'CNY') throw paramError('/amount/currency', '仅支持CNY', 'body', b.amount.currency);
    if (typeof b.payer?.openid !== 'string' || !b.payer.openid) throw paramError('/payer/openid', 'JSAPI支付必须传openid');
    let expireMs: number | null = null;
    if (b.time_expire !== undefined) {
      if (typeof b.time_expire !== 'string' || !RFC3339.test(b.time_expire))
        throw paramError('/time_expire', 'time_expire 须为RFC3339格式，如2018-06-08T10:34:56+08:00', 'body', b.time_expire);
      expireMs = Date.parse(b.time_expire);
      if (expireMs <= now()) throw new PayError(400, 'INVALID_REQUEST', '订单失效时间不能早于当前时间');
    }
    const paramsKey = canonical(b);
    const existing = orders.get(b.out_trade_no);
    if (existing) {
      refresh(existing);
      if (existing.tradeState === 'SUCCESS' || existing.tradeState === 'REFUND') throw new PayError(400, 'ORDER_PAID', '该订单已支付');
      if (existing.tradeState === 'CLOSED') throw new PayError(400, 'ORDER_CLOSED', '该订单已关闭');
      if (existing.paramsKey !== paramsKey) throw new PayError(403, 'OUT_TRADE_NO_USED', '商户订单号重复');
      if (now() - existing.prepayIssuedAt >= PREPAY_TTL_MS) {
        existing.prepayId = newPrepayId();
        existing.prepayIssuedAt = now();
        byPrepay.set(existing.prepayId, existing.outTradeNo);
      }
      ctx.body = { prepay_id: existing.prepayId };
      return;
    }
    const o: PayOrder = {
      appid: b.appid,
      mchid: b.mchid,
      outTradeNo: b.out_trade_no,
      description: b.description,
      attach: b.attach ?? null,
      notifyUrl: b.notify_url,
      timeExpire: b.time_expire ?? null,
      total,
      currency: b.amount.currency ?? 'CNY',
      openid: b.payer.openid,
      prepayId: newPrepayId(),
      prepayIssuedAt: now(),
      createdAt: now(),
      tradeState: 'NOTPAY',
      transactionId: null,
      successAt: null,
      closedAt: null,
      paramsKey,
    };
    orders.set(o.outTradeNo, o);
    byPrepay.set(o.prepayId, o.outTradeNo);
    ctx.body = { prepay_id: o.prepayId };
  });

  function newPrepayId() {
    return 'wx' + chinaCompact(now()) + crypto.randomBytes(10).toString('hex');
  }

  r.get('/v3/pay/transactions/out-trade-no/:no', (ctx) => {
    requireMchidQuery(ctx);
    const o = orders.get(ctx.params.no);
    if (!o) throw new PayError(404, 'ORDER_NOT_EXIST', '订单不存在');
    ctx.body = orderView(o);
  });

  r.get('/v3/pay/transactions/id/:id', (ctx) => {
    requireMchidQuery(ctx);
    const no = byTransaction.get(ctx.params.id);
    const o = no ? orders.get(no) : undefined;
    if (!o) throw new PayError(404, 'ORDER_NOT_EXIST', '订单不存在');
    ctx.body = orderView(o);
  });

  r.post('/v3/pay/transactions/out-trade-no/:no/close', (ctx) => {
    const b = body(ctx);
    if (!b.mchid) throw paramError('/mchid', 'mchid 为必填项');
    if (b.mchid !== opts.mchid) throw new PayError(400, 'INVALID_REQUEST', '商户号与请求签名的商户号不一致');
    const o = orders.get(ctx.params.no);
    if (!o) throw new PayError(404, 'ORDER_NOT_EXIST', '订单不存在');
    refresh(o);
    if (o.tradeState === 'SUCCESS' || o.tradeState === 'REFUND') throw new PayError(400, 'ORDER_PAID', '该订单已支付');
    if (o.tradeState !== 'CLOSED') {
      o.tradeState = 'CLOSED';
      o.closedAt = now();
    }
    ctx.status = 204;
  });

  r.post('/v3/refund/domestic/refunds', (ctx) => {
    const b = body(ctx);
    if (typeof b.out_refund_no !== 'string' || !OUT_REFUND_NO.test(b.out_refund_no))
      throw paramError('/out_refund_no', 'out_refund_no 须为1-64位数字、大小写字母或_-|*@', 'body', b.out_refund_no);
    if (!b.out_trade_no && !b.transaction_id) throw paramError('/out_trade_no', 'transaction_id 与 out_trade_no 必须填写其一');
    const amt = b.amount ?? {};
    if (!Number.isInteger(amt.refund) || amt.refund < 1) throw paramError('/amount/refund', 'amount.refund 须为不小于1的整数（单位：分）', 'body', amt.refund);
    if (!Number.isInteger(amt.total) || amt.total < 1) throw paramError('/amount/total', 'amount.total 须为不小于1的整数（单位：分）', 'body', amt.total);
    if (amt.currency !== 'CNY') throw paramError('/amount/currency', 'amount.currency 须为CNY', 'body', amt.currency);
    if (b.notify_url !== undefined && (typeof b.notify_url !== 'string' || !/^https?:\/\/[^?#\s]+$/.test(b.notify_url)))
      throw paramError('/notify_url', 'notify_url 须为不带查询参数的完整URL');
    if (b.reason !== undefined && (typeof b.reason !== 'string' || Array.from(b.reason).length > 80)) throw paramError('/reason', 'reason 最长80个字符');

    const no = b.out_trade_no ? String(b.out_trade_no) : byTransaction.get(String(b.transaction_id));
    const o = no ? orders.get(no) : undefined;
    if (!o || (b.transaction_id && o.transactionId !== b.transaction_id)) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '订单不存在');
    refresh(o);
    if (o.tradeState !== 'SUCCESS' && o.tradeState !== 'REFUND') throw new PayError(404, 'RESOURCE_NOT_EXISTS', '订单不存在或未支付');

    const paramsKey = canonical({ ...b, out_trade_no: o.outTradeNo, transaction_id: undefined });
    const existing = refunds.get(b.out_refund_no);
    if (existing) {
      // a retry must reuse out_refund_no: same request -> same refund (re-entrant)
      if (existing.paramsKey !== paramsKey) throw new PayError(400, 'INVALID_REQUEST', '同一退款单号的退款请求参数与之前不一致，请核实后再试');
      ctx.body = refundView(existing);
      return;
    }
    if (amt.total !== o.total) throw new PayError(400, 'INVALID_REQUEST', '订单金额与原订单不一致，请核实后再试');
    const ofOrder = [...refunds.values()].filter((x) => x.outTradeNo === o.outTradeNo);
    if (ofOrder.length >= 50) throw new PayError(400, 'INVALID_REQUEST', '退款次数超过限制（最多50次）');
    const refunded = ofOrder.reduce((s, x) => s + x.refund, 0);
    if (refunded + amt.refund > o.total) {
      throw new PayError(400, 'INVALID_REQUEST', refunded >= o.total ? '订单已全额退款' : '申请退款金额超过订单可退金额');
    }
    if (now() - o.successAt! > 365 * 24 * 3600_000) throw new PayError(400, 'INVALID_REQUEST', '订单已超过退款期限');
    const refund: PayRefund = {
      refundId: '50' + randomDigits(27),
      outRefundNo: b.out_refund_no,
      outTradeNo: o.outTradeNo,
      transactionId: o.transactionId!,
      reason: b.reason ?? null,
      notifyUrl: b.notify_url ?? null,
      fundsAccount: b.funds_account === 'AVAILABLE' ? 'AVAILABLE' : 'UNSETTLED',
      refund: amt.refund,
      total: amt.total,
      status: 'PROCESSING',
      createdAt: now(),
      successAt: null,
      paramsKey,
    };
    refunds.set(refund.outRefundNo, refund);
    o.tradeState = 'REFUND';
    later(refundDelayMs, () => void track(finishRefund(refund)));
    ctx.body = refundView(refund);
  });

  r.get('/v3/refund/domestic/refunds/:no', (ctx) => {
    const x = refunds.get(ctx.params.no);
    if (!x) throw new PayError(404, 'RESOURCE_NOT_EXISTS', '退款单不存在');
    ctx.body = refundView(x);
  });

  tradeBillRoutes(r, { opts, orders, refunds, now, PayError, unsigned: (ctx: Koa.Context) => (ctx.state.unsignedResponse = true) });

  // ---- the device's payment sheet (wx.requestPayment) -------------------------------------------
  r.get('/device/pay/order', (ctx) => {
    const pkg = String(ctx.query.package ?? '');
    const no = byPrepay.get(pkg.replace(/^prepay_id=/, ''));
    const o = no ? orders.get(no) : undefined;
    if (!o) {
      ctx.status = 404;
      ctx.body = { errMsg: 'getOrder:fail 订单不存在' };
      return;
    }
    refresh(o);
    ctx.body = { description: o.description, total: o.total, currency: o.currency, tradeState: o.tradeState, mchid: o.mchid, outTradeNo: o.outTradeNo };
  });

  r.post('/device/pay', (ctx) => {
    const b = ((ctx.request as any).body ?? {}) as Record<string, any>;
    const fail = (detail: string, reason?: string) => {
      ctx.body = { errMsg: `requestPayment:fail ${detail}`, ...(reason ? { reason } : {}) };
    };
    for (const k of ['timeStamp', 'nonceStr', 'package', 'signType', 'paySign']) {
      if (typeof b[k] !== 'string' || !b[k]) {
        const got = b[k] === undefined ? 'Undefined' : typeof b[k] === 'number' ? 'Number' : typeof b[k];
        return fail(`parameter error: parameter.${k} should be String instead of ${got};`);
      }
    }
    if (b.nonceStr.length > 32) return fail('parameter error: parameter.nonceStr is too long;');
    if (b.signType !== 'RSA') return fail('cancel', '支付验证签名失败（signType 须为 RSA）');
    // WeChat signs with the mini-program's own AppID, whatever the page passes as appId
    const message = `${opts.appid}\n${b.timeStamp}\n${b.nonceStr}\n${b.package}\n`;
    let ok = false;
    try {
      ok = crypto.createVerify('RSA-SHA256').update(message).verify(merchantPublicKey, b.paySign, 'base64');
    } catch {
      ok = false;
    }
    // the "支付验证签名失败" dialog ends as `fail cancel` in the mini-program
    if (!ok) return fail('cancel', '支付验证签名失败');
    const no = byPrepay.get(String(b.package).replace(/^prepay_id=/, ''));
    const o = no ? orders.get(no) : undefined;
    if (!o || !b.package.startsWith('prepay_id=')) return fail('cancel', '订单不存在');
    refresh(o);
    const payer = b.openid ? String(b.openid) : b.user ? openidFor(String(b.user)) : null;
    if (payer && payer !== o.openid) return fail('cancel', '请使用下单时的微信号支付');
    if (o.tradeState === 'SUCCESS' || o.tradeState === 'REFUND') return fail('cancel', '该订单已支付');
    if (o.tradeState === 'CLOSED') return fail('cancel', '该订单已关闭');
    if (o.prepayId !== b.package.slice('prepay_id='.length) || now() - o.prepayIssuedAt >= PREPAY_TTL_MS) return fail('cancel', '订单已过期，请重新下单');
    if (o.timeExpire && now() >= Date.parse(o.timeExpire)) return fail('cancel', '订单已过期，请重新下单');
    if (b.action === 'cancel') return fail('cancel');
    if (b.action !== 'confirm') return fail('parameter error: action 须为 confirm 或 cancel;');
    pay(o, true);
    ctx.body = { errMsg: 'requestPayment:ok' };
  });

  const openidFor = (user: string) => openidOf(opts.appid, user);

  // ---- state helpers -----------------------------------------------------------------------------
  const state: PaySimulatorState = {
    orders,
    refunds,
    notificationEvents: events,
    notifications: attempts,
    markOrderPaid(outTradeNo) {
      const o = orders.get(outTradeNo);
      if (!o) throw new Error(`sandbox: no order ${outTradeNo}`);
      refresh(o);
      if (o.tradeState !== 'NOTPAY') throw new Error(`sandbox: order ${outTradeNo} is ${o.tradeState}`);
      pay(o, false);
      return o;
    },
    async redeliverNotification(eventId, times = 1) {
      const ev = events.get(eventId);
      if (!ev) throw new Error(`sandbox: no notification ${eventId}`);
      const out: NotificationAttempt[] = [];
      for (let i = 0; i < times; i++) {
        ev.attempts += 1;
        const rec = await track(attempt(ev.url, ev.body, notificationHeaders(ev.body), ev, ev.attempts));
        if (isAck(rec.status)) ev.delivered = true;
        out.push(rec);
      }
      return out;
    },
    buildNotification,
    async sendSigntestProbe(url) {
      const built = buildNotification({ plaintext: { probe: true }, eventType: 'TRANSACTION.SUCCESS' });
      const headers = { ...built.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/' + crypto.randomBytes(48).toString('base64') };
      return track(attempt(url, built.body, headers, { id: JSON.parse(built.body).id, eventType: 'SIGNTEST' }, 1));
    },
    async completeRefund(outRefundNo) {
      const x = refunds.get(outRefundNo);
      if (!x) throw new Error(`sandbox: no refund ${outRefundNo}`);
      return track(finishRefund(x));
    },
    async settleNotifications() {
      while (inflight.size) await Promise.allSettled([...inflight]);
    },
  };

  return {
    state,
    routes: r,
    middleware,
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
