/**
 * WeChat's message push (消息推送) to the BFF: the URL, Token and EncodingAESKey set in the
 * mini-program admin console (开发管理 → 消息推送), data format JSON. Used for content-security
 * verdicts (`wxa_media_check`).
 * - URL check: GET ?signature&timestamp&nonce&echostr → answer echostr when
 *   signature = sha1(sort([token, timestamp, nonce]).join('')).
 * - Plaintext mode: POST with the same query signature, JSON body.
 * - Safe mode (encrypt_type=aes): body `{ToUserName, Encrypt}`, msg_signature =
 *   sha1(sort([token, timestamp, nonce, Encrypt]).join('')); Encrypt = base64(AES-256-CBC,
 *   key = base64(EncodingAESKey + '='), iv = key[0..16], PKCS#7 to 32 bytes) of
 *   random(16) ‖ uint32 BE length ‖ message ‖ appid.
 */
import crypto from 'node:crypto';

export class PushRejected extends Error {}

export interface PushConfig {
  token: string;
  /** EncodingAESKey (43 characters); set = safe mode accepted (and required for encrypted pushes) */
  aesKey?: string;
  appid: string;
  /** reject pushes whose timestamp is further than this from now (default 5 minutes) */
  maxSkewS?: number;
  now?: () => number;
}

export function pushSignature(...parts: string[]): string {
  return crypto
    .createHash('sha1')
    .update([...parts].sort().join(''))
    .digest('hex');
}

const safeEqual = (a: string, b: string) => a.length === b.length && crypto.timingSafeEqual(Buffer.from(a), Buffer.from(b));

function checkTimestamp(cfg: PushConfig, timestamp: string) {
  const ts = Number(timestamp);
  const now = (cfg.now ?? Date.now)() / 1000;
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - ts) > (cfg.maxSkewS ?? 300)) throw new PushRejected('timestamp out of range');
}

/** The console's URL check: returns echostr when the signature is right. */
export function verifyPushUrl(cfg: PushConfig, q: Record<string, unknown>): string {
  const [signature, timestamp, nonce, echostr] = ['signature', 'timestamp', 'nonce', 'echostr'].map((k) => String(q[k] ?? ''));
  if (!signature || !safeEqual(signature, pushSignature(cfg.token, timestamp, nonce))) throw new PushRejected('bad signature');
  return echostr;
}

/** Verify (and in safe mode decrypt) a push; returns the message object. */
export function openPush(cfg: PushConfig, q: Record<string, unknown>, body: any): Record<string, any> {
  const str = (k: string) => String(q[k] ?? '');
  const timestamp = str('timestamp');
  const nonce = str('nonce');
  if (str('encrypt_type') === 'aes' || (body && typeof body.Encrypt === 'string')) {
    if (!cfg.aesKey) throw new PushRejected('encrypted push but no EncodingAESKey configured');
    const encrypt = String(body?.Encrypt ?? '');
    if (!str('msg_signature') || !safeEqual(str('msg_signature'), pushSignature(cfg.token, timestamp, nonce, encrypt)))
      throw new PushRejected('bad msg_signature');
    checkTimestamp(cfg, timestamp);
    const { message, appid } = decryptPush(cfg.aesKey, encrypt);
    if (appid !== cfg.appid) throw new PushRejected('push for another appid');
    try {
      return JSON.parse(message);
    } catch {
      throw new PushRejected('not JSON');
    }
  }
  if (!str('signature') || !safeEqual(str('signature'), pushSignature(cfg.token, timestamp, nonce))) throw new PushRejected('bad signature');
  checkTimestamp(cfg, timestamp);
  if (!body || typeof body !== 'object') throw new PushRejected('not JSON');
  return body;
}

function aesKeyOf(encodingAesKey: string): Buffer {
  const key = Buffer.from(encodingAesKey + '=', 'base64');
  if (key.length !== 32) throw new PushRejected('EncodingAESKey must be 43 characters');
  return key;
}

export function decryptPush(encodingAesKey: string, encrypt: string): { message: string; appid: string } {
  const key = aesKeyOf(encodingAesKey);
  let plain: Buffer;
  try {
    const d = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    d.setAutoPadding(false);
    plain = Buffer.concat([d.update(Buffer.from(encrypt, 'base64')), d.final()]);
  } catch {
    throw new PushRejected('cannot decrypt');
  }
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > 32) throw new PushRejected('bad padding');
  plain = plain.subarray(0, plain.length - pad);
  if (plain.length < 20) throw new PushRejected('too short');
  const len = plain.readUInt32BE(16);
  if (20 + len > plain.length) throw new PushRejected('bad length');
  return { message: plain.subarray(20, 20 + len).toString('utf8'), appid: plain.subarray(20 + len).toString('utf8') };
}

/** What WeChat does (the simulator uses it): encrypt a message for safe mode. */
export function encryptPush(encodingAesKey: string, appid: string, message: string): string {
  const key = aesKeyOf(encodingAesKey);
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  let plain = Buffer.concat([crypto.randomBytes(16), len, msg, Buffer.from(appid, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  plain = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const c = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}
