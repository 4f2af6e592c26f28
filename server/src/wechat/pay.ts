/**
 * The BFF's WeChat Pay API v3 client: the real `wechatpay-node-v3` (unchanged) signs requests and
 * builds `paySign`; this module adds what the library lacks (see wechat-protocols.md §5):
 * - a base URL: the library hard-codes https://api.mch.weixin.qq.com; we plug our own HTTP
 *   service in through its `createHttp()` hook and rewrite the host. It uses fetch instead of the
 *   library's superagent wrapper because that one drops the response headers and raw body, which
 *   we need to verify WeChat's response signatures. The library signs the host-less path and
 *   JSON.stringify(params), which is exactly what we send.
 * - response signature verification for every 2xx answer (the library never verifies);
 * - status checks and typed errors (the library returns `{status: undefined}` on network errors
 *   and the raw text of error bodies);
 * - notification verification over the RAW body with our own AES-256-GCM that checks the tag
 *   (the library's `decipher_gcm` never calls `final()`), with no outbound certificate fetch for
 *   unknown serials (the library's `verifySign` would call /v3/certificates).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import WxPay from 'wechatpay-node-v3';
import type { IPayRequest } from 'wechatpay-node-v3/dist/lib/pay-request.interface';
import type { Output } from 'wechatpay-node-v3/dist/lib/interface-v2';

const WECHATPAY_HOST = 'https://api.mch.weixin.qq.com';
const MAX_SKEW_S = 300;

export interface PlatformCert {
  /** platform certificate serial (hex, any case) or public-key id `PUB_KEY_ID_…` */
  serial: string;
  /** X.509 certificate PEM or SPKI public-key PEM */
  pem: string;
}

export interface PayClientOptions {
  /** https://api.mch.weixin.qq.com in production; the sandbox's URL (maybe with /sandbox) otherwise */
  baseUrl: string;
  appid: string;
  mchid: string;
  merchantCertPem: string;
  merchantKeyPem: string;
  /** exactly 32 ASCII characters */
  apiV3Key: string;
  platformCerts: PlatformCert[];
  now?: () => Date;
  timeoutMs?: number;
  /** a streamed bill download may take this long in all (default 10 minutes) */
  downloadTimeoutMs?: number;
  fetch?: typeof fetch;
}

/** What the mini-program passes to `wx.requestPayment` (appId is informational: WeChat ignores it). */
export interface RequestPaymentParams {
  appId: string;
  timeStamp: string;
  nonceStr: string;
  package: string;
  signType: 'RSA';
  paySign: string;
}

export interface JsapiPrepayInput {
  description: string;
  outTradeNo: string;
  amountFen: number;
  openid: string;
  timeExpire: Date;
  notifyUrl: string;
  attach?: string;
}

/** A WeChat transaction as queried (SUCCESS/REFUND carry transaction_id, payer, success_time). */
export interface Transaction {
  appid: string;
  mchid: string;
  out_trade_no: string;
  transaction_id?: string;
  trade_type?: string;
  trade_state: 'SUCCESS' | 'REFUND' | 'NOTPAY' | 'CLOSED' | 'REVOKED' | 'USERPAYING' | 'PAYERROR' | 'ACCEPT';
  trade_state_desc: string;
  bank_type?: string;
  attach?: string;
  success_time?: string;
  payer?: { openid: string };
  amount: { total: number; payer_total?: number; currency?: string; payer_currency?: string };
  [key: string]: unknown;
}

export interface RefundInput {
  outTradeNo: string;
  outRefundNo: string;
  refundFen: number;
  totalFen: number;
  reason?: string;
  notifyUrl?: string;
}

export interface Refund {
  refund_id: string;
  out_refund_no: string;
  transaction_id: string;
  out_trade_no: string;
  channel: string;
  user_received_account: string;
  success_time?: string;
  create_time: string;
  status: 'SUCCESS' | 'CLOSED' | 'PROCESSING' | 'ABNORMAL';
  funds_account?: string;
  amount: { total: number; refund: number; payer_total: number; payer_refund: number; currency: string; [k: string]: unknown };
  [key: string]: unknown;
}

export interface VerifiedNotification<T = any> {
  id: string;
  eventType: string;
  createTime: string;
  summary: string;
  /** the decrypted, parsed resource (transaction or refund) */
  resource: T;
}

export interface PayClient {
  jsapiPrepay(input: JsapiPrepayInput): Promise<RequestPaymentParams & { prepayId: string }>;
  queryByOutTradeNo(outTradeNo: string): Promise<Transaction>;
  queryByTransactionId(transactionId: string): Promise<Transaction>;
  /** 204 from WeChat; re-entrant. A paid order fails with PayApiError (query it, then refund). */
  close(outTradeNo: string): Promise<void>;
  refund(input: RefundInput): Promise<Refund>;
  queryRefund(outRefundNo: string): Promise<Refund>;
  verifyAndDecryptNotification(input: { headers: Record<string, string | string[] | undefined>; rawBody: string | Buffer; now?: Date }): VerifiedNotification;
  /**
   * Apply for and download one day's trade bill (CSV text, BOM included), checking its SHA1.
   * WeChat answers 400 NO_STATEMENT_EXIST (no trades that day) or STATEMENT_CREATING (not ready).
   */
  tradeBill(input: { billDate: string; billType?: 'ALL' | 'SUCCESS' | 'REFUND'; gzip?: boolean }): Promise<{ csv: string; hashValue: string }>;
  /**
   * The same, streamed: the (gunzipped) bytes go to `toFile` while their SHA1 is computed, never
   * held in memory. On a hash mismatch or a broken download the file is removed and a PayApiError
   * thrown (BILL_HASH_MISMATCH, DOWNLOAD_FAILED, or WeChat's code).
   */
  downloadTradeBill(input: {
    billDate: string;
    billType?: 'ALL' | 'SUCCESS' | 'REFUND';
    gzip?: boolean;
    toFile: string;
  }): Promise<{ hashValue: string; bytes: number }>;
}

/** A non-2xx answer (`status`, WeChat's `code`/`message`), an unverifiable 2xx, or no answer (status null). */
export class PayApiError extends Error {
  constructor(
    public readonly status: number | null,
    public readonly code: string,
    message: string,
    public readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'PayApiError';
  }
}

export type NotificationRejectReason = 'UNKNOWN_SERIAL' | 'STALE_TIMESTAMP' | 'BAD_SIGNATURE' | 'SIGNTEST' | 'DECRYPT_FAILED' | 'MALFORMED';

/** A notification we must answer with 4xx/5xx. */
export class NotificationRejected extends Error {
  constructor(
    public readonly reason: NotificationRejectReason,
    message: string = reason,
  ) {
    super(message);
    this.name = 'NotificationRejected';
  }
}

/** RFC 3339 in China time without millis (the form WeChat documents): 2018-06-08T10:34:56+08:00 */
export function toWechatTime(d: Date): string {
  return new Date(d.getTime() + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00';
}

/** Decrypt an AEAD_AES_256_GCM resource, checking the tag. Throws on any tampering. */
export function decryptResource(resource: { ciphertext: string; nonce: string; associated_data?: string }, apiV3Key: string): string {
  const buf = Buffer.from(resource.ciphertext, 'base64');
  if (buf.length < 17) throw new Error('ciphertext too short');
  const decipher = crypto.createDecipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(resource.nonce, 'utf8'));
  decipher.setAuthTag(buf.subarray(buf.length - 16));
  decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
  return Buffer.concat([decipher.update(buf.subarray(0, buf.length - 16)), decipher.final()]).toString('utf8');
}

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name] ?? h[Object.keys(h).find((k) => k.toLowerCase() === name) ?? ''];
  return Array.isArray(v) ? v[0] : v;
};

/** Output of our HTTP service: the library's shape plus the raw text and headers. */
interface RawOutput extends Output {
  text?: string;
  headers?: Record<string, string>;
}

/** IPayRequest for `pay.createHttp()`: rewrites WeChat's host to baseUrl, keeps raw text + headers. */
class LocalRequest implements IPayRequest {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
    private readonly doFetch: typeof fetch,
  ) {}

  private rw(u: string) {
    return u.startsWith(WECHATPAY_HOST) ? this.baseUrl + u.slice(WECHATPAY_HOST.length) : u;
  }

  private async send(method: string, url: string, headers: Record<string, any>, body?: string): Promise<RawOutput> {
    let res: Response;
    let bytes: Buffer;
    try {
      res = await this.doFetch(this.rw(url), { method, headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
      bytes = Buffer.from(await res.arrayBuffer());
    } catch (err: any) {
      // like the library: network errors come back with status undefined
      return { status: undefined as unknown as number, errRaw: { message: String(err?.cause?.code ?? err?.message ?? err) } };
    }
    const h: Record<string, string> = {};
    res.headers.forEach((v, k) => (h[k] = v));
    const type = h['content-type'] ?? '';
    // bills may come gzipped (application/x-gzip): keep the bytes, never decode them as text
    const binary = /gzip|octet-stream/.test(type);
    const text = binary ? '' : bytes.toString('utf8');
    if (res.status >= 200 && res.status < 300) {
      let data: unknown = binary ? bytes : text;
      if (text && /json/.test(type)) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      }
      return { status: res.status, data, text, headers: h };
    }
    return { status: res.status, error: text, errRaw: { status: res.status, text }, text, headers: h };
  }

  /** A GET whose body is left unread (bill downloads): the caller streams it. */
  async open(url: string, headers: Record<string, any>, timeoutMs: number): Promise<Response> {
    return this.doFetch(this.rw(url), { method: 'GET', headers, signal: AbortSignal.timeout(timeoutMs) });
  }

  post(url: string, params: Record<string, any>, headers: Record<string, any>): Promise<Output> {
    return this.send('POST', url, headers, JSON.stringify(params));
  }
  get(url: string, headers: Record<string, any>): Promise<Output> {
    return this.send('GET', url, headers);
  }
  async upload(): Promise<Output> {
    return { status: undefined as unknown as number, errRaw: { message: 'upload is not supported by this client' } };
  }
}

export function createPayClient(opts: PayClientOptions): PayClient {
  if (Buffer.byteLength(opts.apiV3Key, 'utf8') !== 32) throw new Error('apiV3Key must be exactly 32 ASCII characters');
  const now = opts.now ?? (() => new Date());
  const merchantSerial = new crypto.X509Certificate(opts.merchantCertPem).serialNumber.toUpperCase();
  const platformKeys = new Map<string, crypto.KeyObject>();
  for (const c of opts.platformCerts) platformKeys.set(c.serial.toUpperCase(), crypto.createPublicKey(c.pem));

  const wx = new WxPay({
    appid: opts.appid,
    mchid: opts.mchid,
    publicKey: Buffer.from(opts.merchantCertPem),
    privateKey: Buffer.from(opts.merchantKeyPem),
    // the library would send the serial in lowercase; WeChat prints it uppercase
    serial_no: merchantSerial,
    key: opts.apiV3Key,
  });
  const http = new LocalRequest(opts.baseUrl.replace(/\/+$/, ''), opts.timeoutMs ?? 10_000, opts.fetch ?? fetch);
  wx.createHttp(http);

  /** Check a signed message's headers; throws NotificationRejected. */
  function verifySigned(h: Headers, body: string, at: Date) {
    const serial = header(h, 'wechatpay-serial');
    const signature = header(h, 'wechatpay-signature');
    const ts = header(h, 'wechatpay-timestamp');
    const nonce = header(h, 'wechatpay-nonce');
    if (!serial || !signature || !ts || !nonce) throw new NotificationRejected('MALFORMED', 'missing Wechatpay-* headers');
    // never fetch certificates for an unknown serial: anyone can send us one
    const key = platformKeys.get(serial.toUpperCase());
    if (!key) throw new NotificationRejected('UNKNOWN_SERIAL', `unknown Wechatpay-Serial ${serial}`);
    if (signature.startsWith('WECHATPAY/SIGNTEST/')) throw new NotificationRejected('SIGNTEST', 'WeChat signature probe');
    const type = header(h, 'wechatpay-signature-type');
    if (type && type !== 'WECHATPAY2-SHA256-RSA2048') throw new NotificationRejected('MALFORMED', `unsupported signature type ${type}`);
    if (!/^\d{1,12}$/.test(ts) || Math.abs(at.getTime() / 1000 - Number(ts)) > MAX_SKEW_S) {
      throw new NotificationRejected('STALE_TIMESTAMP', `Wechatpay-Timestamp ${ts} is more than 5 minutes off`);
    }
    let ok = false;
    try {
      ok = crypto.createVerify('RSA-SHA256').update(`${ts}\n${nonce}\n${body}\n`).verify(key, signature, 'base64');
    } catch {
      ok = false;
    }
    if (!ok) throw new NotificationRejected('BAD_SIGNATURE', 'signature does not verify');
  }

  /** Status checks, error parsing and response-signature verification around every SDK call. */
  function checked(result: RawOutput | undefined, verify = true): RawOutput {
    if (!result || result.status === undefined || result.status === null) {
      throw new PayApiError(null, 'NETWORK_ERROR', `WeChat Pay unreachable: ${result?.errRaw?.message ?? 'no answer'}`);
    }
    if (result.status < 200 || result.status >= 300) {
      let code = `HTTP_${result.status}`;
      let message = String(result.error ?? '').slice(0, 500);
      let detail: unknown;
      try {
        const e = JSON.parse(String(result.error));
        if (e && typeof e.code === 'string') {
          code = e.code;
          message = String(e.message ?? '');
          detail = e.detail;
        }
      } catch {
        // not JSON: keep the text
      }
      throw new PayApiError(result.status, code, message, detail);
    }
    if (!verify) return result;
    try {
      verifySigned(result.headers ?? {}, result.text ?? '', now());
    } catch (err) {
      const why = err instanceof NotificationRejected ? `${err.reason}: ${err.message}` : String(err);
      throw new PayApiError(result.status, 'RESPONSE_SIGNATURE_INVALID', `WeChat Pay answer failed verification (${why})`);
    }
    return result;
  }

  /** GET /v3/bill/tradebill: where to download the day's bill and its SHA1. */
  async function applyBill(billDate: string, billType: string, gzip: boolean) {
    const apply = checked((await wx.tradebill({ bill_date: billDate, bill_type: billType, ...(gzip ? { tar_type: 'GZIP' } : {}) })) as RawOutput);
    const { hash_type: hashType, hash_value: hashValue, download_url: url } = apply.data as { hash_type: string; hash_value: string; download_url: string };
    if (hashType !== 'SHA1' || !url || !hashValue) throw new PayApiError(apply.status, 'BAD_BILL_ANSWER', `unexpected tradebill answer (${hashType})`);
    return { hashValue, url };
  }

  return {
    async jsapiPrepay(input) {
      const params = {
        description: input.description,
        out_trade_no: input.outTradeNo,
        time_expire: toWechatTime(input.timeExpire),
        notify_url: input.notifyUrl,
        ...(input.attach !== undefined ? { attach: input.attach } : {}),
        amount: { total: input.amountFen, currency: 'CNY' },
        payer: { openid: input.openid },
      };
      const result = checked((await wx.transactions_jsapi(params)) as RawOutput);
      const data = result.data as RequestPaymentParams | { prepay_id?: string };
      if (!('package' in data) || !data.paySign) throw new PayApiError(result.status, 'NO_PREPAY_ID', 'WeChat Pay answered without prepay_id');
      return {
        appId: data.appId,
        timeStamp: data.timeStamp,
        nonceStr: data.nonceStr,
        package: data.package,
        signType: 'RSA',
        paySign: data.paySign,
        prepayId: data.package.slice('prepay_id='.length),
      };
    },

    async queryByOutTradeNo(outTradeNo) {
      return checked((await wx.query({ out_trade_no: encodeURIComponent(outTradeNo) })) as RawOutput).data as Transaction;
    },

    async queryByTransactionId(transactionId) {
      return checked((await wx.query({ transaction_id: encodeURIComponent(transactionId) })) as RawOutput).data as Transaction;
    },

    async close(outTradeNo) {
      checked((await wx.close(encodeURIComponent(outTradeNo))) as RawOutput);
    },

    async refund(input) {
      const params = {
        out_trade_no: input.outTradeNo,
        out_refund_no: input.outRefundNo,
        ...(input.reason ? { reason: input.reason } : {}),
        ...(input.notifyUrl ? { notify_url: input.notifyUrl } : {}),
        amount: { refund: input.refundFen, total: input.totalFen, currency: 'CNY' },
      };
      return checked((await wx.refunds(params as any)) as RawOutput).data as Refund;
    },

    async queryRefund(outRefundNo) {
      return checked((await wx.find_refunds(encodeURIComponent(outRefundNo))) as RawOutput).data as Refund;
    },

    async tradeBill({ billDate, billType = 'ALL', gzip = false }) {
      const { hashValue, url } = await applyBill(billDate, billType, gzip);
      // the download answer is not signed by WeChat: check the hash instead
      const file = checked((await wx.downloadBill(url)) as RawOutput, false);
      let bytes = Buffer.isBuffer(file.data) ? file.data : Buffer.from(file.text ?? '', 'utf8');
      if (gzip || (bytes[0] === 0x1f && bytes[1] === 0x8b)) bytes = zlib.gunzipSync(bytes);
      const actual = crypto.createHash('sha1').update(bytes).digest('hex');
      if (actual !== hashValue.toLowerCase()) throw new PayApiError(file.status, 'BILL_HASH_MISMATCH', `bill SHA1 ${actual} does not match ${hashValue}`);
      return { csv: bytes.toString('utf8'), hashValue };
    },

    async downloadTradeBill({ billDate, billType = 'ALL', gzip = false, toFile }) {
      const { hashValue, url } = await applyBill(billDate, billType, gzip);
      // signed like the SDK's downloadBill; the answer is not signed by WeChat: the hash is the check
      const signer = wx as unknown as { buildAuthorization(m: string, u: string): string; getHeaders(auth: string): Record<string, string> };
      const headers = signer.getHeaders(signer.buildAuthorization('GET', url));
      let res: Response;
      try {
        res = await http.open(url, headers, opts.downloadTimeoutMs ?? 10 * 60_000);
      } catch (err: any) {
        throw new PayApiError(null, 'NETWORK_ERROR', `WeChat Pay unreachable: ${String(err?.cause?.code ?? err?.message ?? err)}`);
      }
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        checked({ status: res.status, error: text, errRaw: { status: res.status, text }, text } as RawOutput, false);
        throw new PayApiError(res.status, `HTTP_${res.status}`, 'bill download answered without a body');
      }
      const hash = crypto.createHash('sha1');
      let bytes = 0;
      const tee = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash.update(chunk);
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      const unzip = gzip || /gzip/.test(res.headers.get('content-type') ?? '');
      const source = Readable.fromWeb(res.body as any);
      try {
        await (unzip ? pipeline(source, zlib.createGunzip(), tee, fs.createWriteStream(toFile)) : pipeline(source, tee, fs.createWriteStream(toFile)));
      } catch (err: any) {
        await fs.promises.rm(toFile, { force: true });
        throw new PayApiError(res.status, 'DOWNLOAD_FAILED', `bill download failed: ${String(err?.cause?.code ?? err?.message ?? err)}`);
      }
      const actual = hash.digest('hex');
      if (actual !== hashValue.toLowerCase()) {
        await fs.promises.rm(toFile, { force: true });
        throw new PayApiError(res.status, 'BILL_HASH_MISMATCH', `bill SHA1 ${actual} does not match ${hashValue}`);
      }
      return { hashValue: actual, bytes };
    },

    verifyAndDecryptNotification({ headers, rawBody, now: at }) {
      const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
      verifySigned(headers, body, at ?? now());
      let env: any;
      try {
        env = JSON.parse(body);
      } catch {
        throw new NotificationRejected('MALFORMED', 'body is not JSON');
      }
      const res = env?.resource;
      if (
        typeof env?.id !== 'string' ||
        typeof env.event_type !== 'string' ||
        !res ||
        res.algorithm !== 'AEAD_AES_256_GCM' ||
        typeof res.ciphertext !== 'string' ||
        typeof res.nonce !== 'string'
      ) {
        throw new NotificationRejected('MALFORMED', 'not an encrypted WeChat Pay notification');
      }
      let plaintext: string;
      try {
        plaintext = decryptResource(res, opts.apiV3Key);
      } catch {
        throw new NotificationRejected('DECRYPT_FAILED', 'AES-256-GCM authentication failed');
      }
      let resource: unknown;
      try {
        resource = JSON.parse(plaintext);
      } catch {
        throw new NotificationRejected('MALFORMED', 'resource plaintext is not JSON');
      }
      return { id: env.id, eventType: env.event_type, createTime: String(env.create_time ?? ''), summary: String(env.summary ?? ''), resource };
    },
  };
}
