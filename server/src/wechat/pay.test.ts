import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { bodyParser } from '@koa/bodyparser';
import WxPay from 'wechatpay-node-v3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sandboxKeys, sandboxPayCredentials, startSandbox } from '../sandbox';
import { createPayClient, NotificationRejected, PayApiError, type PayClient, type PayClientOptions, type VerifiedNotification } from './pay';

const opts = { appid: 'wx00000000sandbox', secret: 's3cret', mchid: '1900000001', apiV3Key: 'sandboxApiV3Key0123456789abcdefg' };
const keys = sandboxKeys();

let sandbox: Awaited<ReturnType<typeof startSandbox>>;
let client: PayClient;
let clientOpts: PayClientOptions;
let offsetMs = 0; // the simulated WeChat's clock offset (payment-sheet expiry tests)

// ---- a tiny merchant server that receives notifications the way the BFF will ------------------
interface Received {
  headers: http.IncomingHttpHeaders;
  rawBody: string;
  ok?: VerifiedNotification;
  rejected?: NotificationRejected;
}
const received: Received[] = [];
let failuresLeft = 0;
let receiver: http.Server;
let notifyUrl: string;

beforeAll(async () => {
  sandbox = await startSandbox({ ...opts, notifyRetryScheduleMs: [30, 30, 30], refundSuccessDelayMs: 20, now: () => new Date(Date.now() + offsetMs) });
  clientOpts = {
    baseUrl: sandbox.url,
    appid: opts.appid,
    mchid: opts.mchid,
    apiV3Key: opts.apiV3Key,
    ...sandboxPayCredentials(),
  };
  client = createPayClient(clientOpts);

  const app = new Koa();
  app.use(bodyParser({ enableTypes: ['json'] }));
  app.use((ctx) => {
    const rec: Received = { headers: ctx.headers, rawBody: ctx.request.rawBody ?? '' };
    received.push(rec);
    try {
      rec.ok = client.verifyAndDecryptNotification({ headers: ctx.headers, rawBody: rec.rawBody });
    } catch (err) {
      if (!(err instanceof NotificationRejected)) throw err;
      rec.rejected = err;
      ctx.status = 400;
      ctx.body = { code: 'FAIL', message: '失败' };
      return;
    }
    if (failuresLeft > 0) {
      failuresLeft--;
      ctx.status = 500;
      ctx.body = { code: 'FAIL', message: '失败' };
      return;
    }
    ctx.status = 204;
  });
  receiver = http.createServer(app.callback());
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  notifyUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/v1/wechat/pay/notify`;
});

afterAll(async () => {
  await sandbox?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => (receiver ? receiver.close(() => r()) : r()));
});

beforeEach(() => {
  failuresLeft = 0;
  offsetMs = 0;
});

async function waitFor<T>(fn: () => T | undefined | false, ms = 3000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

let seq = 0;
const tradeNo = () => `HB${Date.now()}${(seq++).toString().padStart(4, '0')}`;
const openid = 'oSandboxUser0000000000000000';

function prepay(outTradeNo: string, amountFen = 1000, extra: Partial<Parameters<PayClient['jsapiPrepay']>[0]> = {}) {
  return client.jsapiPrepay({
    description: '供热管家-2026-2027采暖费',
    outTradeNo,
    amountFen,
    openid,
    timeExpire: new Date(Math.floor(Date.now() / 60_000) * 60_000 + 30 * 60_000),
    notifyUrl,
    ...extra,
  });
}

async function devicePay(params: object, action: 'confirm' | 'cancel' = 'confirm') {
  const res = await fetch(`${sandbox.url}/device/pay`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...params, action }),
  });
  return (await res.json()) as { errMsg: string; reason?: string };
}

/** Re-sign a (tampered) notification body with the platform key, like a valid WeChat message. */
function signAsPlatform(body: string, ts = Math.floor(Date.now() / 1000)) {
  const nonce = crypto.randomBytes(16).toString('hex');
  return {
    'wechatpay-timestamp': String(ts),
    'wechatpay-nonce': nonce,
    'wechatpay-serial': keys.platformSerial,
    'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    'wechatpay-signature': crypto.createSign('RSA-SHA256').update(`${ts}\n${nonce}\n${body}\n`).sign(keys.platformKeyPem, 'base64'),
  };
}

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof NotificationRejected) return err.reason;
    throw err;
  }
  return 'ACCEPTED';
};

describe('WeChat Pay client (real wechatpay-node-v3) against the simulator', () => {
  it('prepays, signs wx.requestPayment, pays on the device and receives a verified notification', async () => {
    const no = tradeNo();
    const p = await prepay(no, 123456, { attach: 'account=HB-0001' });
    expect(p.timeStamp).toMatch(/^\d{10}$/);
    expect(p.package).toMatch(/^prepay_id=wx\d{14}[0-9a-f]{20}$/);
    expect(p.signType).toBe('RSA');
    // paySign is RSA-SHA256 over appId\ntimeStamp\nnonceStr\npackage\n with the merchant key
    const ok = crypto
      .createVerify('RSA-SHA256')
      .update(`${opts.appid}\n${p.timeStamp}\n${p.nonceStr}\n${p.package}\n`)
      .verify(keys.merchantCertPem, p.paySign, 'base64');
    expect(ok).toBe(true);

    const before = await client.queryByOutTradeNo(no);
    expect(before).toMatchObject({ trade_state: 'NOTPAY', trade_state_desc: '订单未支付', amount: { total: 123456 } });
    expect(before.transaction_id).toBeUndefined();

    const { appId: _ignored, prepayId: _id, ...sheet } = p;
    expect(await devicePay(sheet)).toEqual({ errMsg: 'requestPayment:ok' });
    const got = await waitFor(() => received.find((r) => r.ok?.resource.out_trade_no === no));
    expect(got.ok).toMatchObject({ eventType: 'TRANSACTION.SUCCESS', summary: '支付成功' });
    expect(got.ok!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(got.ok!.resource).toMatchObject({
      mchid: opts.mchid,
      appid: opts.appid,
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      attach: 'account=HB-0001',
      payer: { openid },
      amount: { total: 123456, payer_total: 123456, currency: 'CNY' },
    });
    expect(got.headers).toMatchObject({
      'user-agent': 'Mozilla/4.0',
      'wechatpay-serial': keys.platformSerial,
      'wechatpay-signature-type': 'WECHATPAY2-SHA256-RSA2048',
    });
    expect(got.headers['wechatpay-nonce']).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(JSON.parse(got.rawBody).resource).toMatchObject({ original_type: 'transaction', associated_data: 'transaction', algorithm: 'AEAD_AES_256_GCM' });
    expect(JSON.parse(got.rawBody).resource.nonce).toHaveLength(12);

    const after = await client.queryByOutTradeNo(no);
    expect(after).toMatchObject({ trade_state: 'SUCCESS', transaction_id: got.ok!.resource.transaction_id });
    expect(after.transaction_id).toMatch(/^4200\d{24}$/);
    expect(after.success_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$/);
    expect(await client.queryByTransactionId(after.transaction_id!)).toMatchObject({ out_trade_no: no, trade_state: 'SUCCESS' });
    // the order can't be paid twice
    expect(await devicePay(sheet)).toMatchObject({ errMsg: 'requestPayment:fail cancel', reason: '该订单已支付' });
    const attempts = sandbox.state.notifications.filter((n) => n.eventId === got.ok!.id);
    expect(attempts).toMatchObject([{ attempt: 1, status: 204, url: notifyUrl }]);
  });

  it('the device refuses a forged paySign, a numeric timeStamp, and reports cancel', async () => {
    const p = await prepay(tradeNo());
    const { appId: _a, prepayId: _b, ...sheet } = p;
    expect(await devicePay({ ...sheet, paySign: sheet.paySign.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })).toMatchObject({
      errMsg: 'requestPayment:fail cancel',
      reason: '支付验证签名失败',
    });
    expect(await devicePay({ ...sheet, timeStamp: Number(sheet.timeStamp) })).toMatchObject({ errMsg: expect.stringContaining('timeStamp should be String') });
    expect(await devicePay(sheet, 'cancel')).toEqual({ errMsg: 'requestPayment:fail cancel' });
    // the payment sheet signed for another app fails like a bad signature
    const other = crypto
      .createSign('RSA-SHA256')
      .update(`wxOTHERAPP\n${sheet.timeStamp}\n${sheet.nonceStr}\n${sheet.package}\n`)
      .sign(keys.merchantKeyPem, 'base64');
    expect(await devicePay({ ...sheet, paySign: other })).toMatchObject({ reason: '支付验证签名失败' });
  });

  it("retries a notification on WeChat's schedule until the merchant answers 2xx", async () => {
    failuresLeft = 2;
    const no = tradeNo();
    const { appId: _a, prepayId: _b, ...sheet } = await prepay(no);
    await devicePay(sheet);
    const event = await waitFor(() => [...sandbox.state.notificationEvents.values()].find((e) => e.outTradeNo === no && e.delivered));
    const tries = sandbox.state.notifications.filter((n) => n.eventId === event.id);
    expect(tries.map((t) => [t.attempt, t.status])).toEqual([
      [1, 500],
      [2, 500],
      [3, 204],
    ]);
    // every attempt is the same event with the same body, signed afresh
    const bodies = received.filter((r) => r.ok?.id === event.id);
    expect(bodies).toHaveLength(3);
    expect(new Set(bodies.map((b) => b.rawBody)).size).toBe(1);
    expect(new Set(bodies.map((b) => b.headers['wechatpay-nonce'])).size).toBe(3);
    // re-delivery on demand (duplicates are the BFF's idempotency problem)
    const again = await sandbox.state.redeliverNotification(event.id, 2);
    expect(again.map((a) => a.status)).toEqual([204, 204]);
    expect(received.filter((r) => r.ok?.id === event.id)).toHaveLength(5);
  });

  it('stops retrying after the schedule is used up', async () => {
    failuresLeft = 100;
    const no = tradeNo();
    const { appId: _a, prepayId: _b, ...sheet } = await prepay(no);
    await devicePay(sheet);
    await waitFor(
      () =>
        sandbox.state.notifications.filter((n) => [...sandbox.state.notificationEvents.values()].find((e) => e.id === n.eventId)?.outTradeNo === no).length ===
        4,
    );
    await new Promise((r) => setTimeout(r, 120));
    const ev = [...sandbox.state.notificationEvents.values()].find((e) => e.outTradeNo === no)!;
    expect(ev).toMatchObject({ attempts: 4, delivered: false }); // 1 + 3 retries of the test schedule
  });

  it('rejects forged, stale, probing and undecryptable notifications with the right reason', async () => {
    const plaintext = { mchid: opts.mchid, appid: opts.appid, out_trade_no: 'HB-FORGED-1', trade_state: 'SUCCESS', amount: { total: 1 } };
    const good = sandbox.state.buildNotification({ plaintext });
    const verify = (body: string, headers: Record<string, string>) => () => client.verifyAndDecryptNotification({ headers, rawBody: body });
    expect(reasonOf(verify(good.body, good.headers))).toBe('ACCEPTED');
    expect(client.verifyAndDecryptNotification({ headers: good.headers, rawBody: Buffer.from(good.body) }).resource).toEqual(plaintext);

    // tampered body (re-serialised with a space) / flipped signature bit
    expect(reasonOf(verify(good.body.replace('"summary":', '"summary": '), good.headers))).toBe('BAD_SIGNATURE');
    const sig = Buffer.from(good.headers['wechatpay-signature'], 'base64');
    sig[10] ^= 1;
    expect(reasonOf(verify(good.body, { ...good.headers, 'wechatpay-signature': sig.toString('base64') }))).toBe('BAD_SIGNATURE');
    // signed by someone else's key
    const { privateKey: rogue } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = sandbox.state.buildNotification({ plaintext, signingKeyPem: rogue.export({ type: 'pkcs8', format: 'pem' }).toString() });
    expect(reasonOf(verify(forged.body, forged.headers))).toBe('BAD_SIGNATURE');
    // unknown serial: rejected without fetching certificates
    expect(reasonOf(verify(good.body, { ...good.headers, 'wechatpay-serial': '7132D72A03E93CDDF8C03BBD1F37EEDF8A6DB6B9' }))).toBe('UNKNOWN_SERIAL');
    // stale timestamp (10 minutes old, validly signed)
    const stale = sandbox.state.buildNotification({ plaintext, timestamp: Math.floor(Date.now() / 1000) - 600 });
    expect(reasonOf(verify(stale.body, stale.headers))).toBe('STALE_TIMESTAMP');
    // SIGNTEST probe
    expect(reasonOf(verify(good.body, { ...good.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/' + sig.toString('base64') }))).toBe('SIGNTEST');

    // flipped GCM tag bit, validly signed: the library's decipher_gcm would accept it
    const env = JSON.parse(good.body);
    const ct = Buffer.from(env.resource.ciphertext, 'base64');
    ct[ct.length - 1] ^= 1;
    env.resource.ciphertext = ct.toString('base64');
    const flipped = JSON.stringify(env);
    expect(reasonOf(verify(flipped, signAsPlatform(flipped)))).toBe('DECRYPT_FAILED');
    const lib = new WxPay({ appid: opts.appid, mchid: opts.mchid, publicKey: Buffer.from(keys.merchantCertPem), privateKey: Buffer.from(keys.merchantKeyPem) });
    expect(lib.decipher_gcm(env.resource.ciphertext, env.resource.associated_data, env.resource.nonce, opts.apiV3Key)).toMatchObject({
      out_trade_no: 'HB-FORGED-1',
    });
    // wrong AAD, validly signed
    const env2 = JSON.parse(good.body);
    env2.resource.associated_data = 'refund';
    const wrongAad = JSON.stringify(env2);
    expect(reasonOf(verify(wrongAad, signAsPlatform(wrongAad)))).toBe('DECRYPT_FAILED');
    // encrypted under another APIv3 key
    const otherKey = sandbox.state.buildNotification({ plaintext, apiV3Key: 'x'.repeat(32) });
    expect(reasonOf(verify(otherKey.body, otherKey.headers))).toBe('DECRYPT_FAILED');
    // not a notification at all
    expect(reasonOf(verify('{"hello":1}', signAsPlatform('{"hello":1}')))).toBe('MALFORMED');
    expect(reasonOf(verify(good.body, { ...good.headers, 'wechatpay-nonce': '' }))).toBe('MALFORMED');

    // WeChat's probe over HTTP gets a 4xx from the receiver
    const probe = await sandbox.state.sendSigntestProbe(notifyUrl);
    expect(probe.status).toBe(400);
    expect(received.at(-1)!.rejected!.reason).toBe('SIGNTEST');
  });

  it('queries NOTPAY / CLOSED, closes re-entrantly and refuses to close a paid order', async () => {
    const no = tradeNo();
    await prepay(no);
    expect((await client.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
    await client.close(no);
    await client.close(no); // re-entrant
    expect(await client.queryByOutTradeNo(no)).toMatchObject({ trade_state: 'CLOSED', trade_state_desc: '订单已关闭' });
    await expect(prepay(no)).rejects.toMatchObject({ status: 400, code: 'ORDER_CLOSED' });

    const unknown = await client.queryByOutTradeNo('HB-NO-SUCH-ORDER').catch((e) => e);
    expect(unknown).toBeInstanceOf(PayApiError);
    expect(unknown).toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST', message: '订单不存在' });
    await expect(client.close('HB-NO-SUCH-ORDER')).rejects.toMatchObject({ status: 404, code: 'ORDER_NOT_EXIST' });

    const paid = tradeNo();
    await prepay(paid);
    sandbox.state.markOrderPaid(paid); // paid, notification lost
    expect(sandbox.state.notifications.some((n) => [...sandbox.state.notificationEvents.values()].find((e) => e.id === n.eventId)?.outTradeNo === paid)).toBe(
      false,
    );
    expect((await client.queryByOutTradeNo(paid)).trade_state).toBe('SUCCESS');
    await expect(client.close(paid)).rejects.toMatchObject({ status: 400, code: 'ORDER_PAID' });
    await expect(prepay(paid)).rejects.toMatchObject({ status: 400, code: 'ORDER_PAID' });
  });

  it('is re-entrant for identical prepay params and refuses a reused out_trade_no (OUT_TRADE_NO_USED)', async () => {
    const no = tradeNo();
    const a = await prepay(no, 500);
    const b = await prepay(no, 500);
    expect(b.prepayId).toBe(a.prepayId);
    await expect(prepay(no, 600)).rejects.toMatchObject({ status: 403, code: 'OUT_TRADE_NO_USED' });
    await expect(prepay(tradeNo(), 0)).rejects.toMatchObject({ status: 400, code: 'PARAM_ERROR', detail: { field: '/amount/total' } });
    await expect(prepay('bad no!', 1)).rejects.toMatchObject({ status: 400, code: 'PARAM_ERROR', detail: { field: '/out_trade_no' } });
    await expect(prepay(tradeNo(), 1, { openid: '' })).rejects.toMatchObject({ code: 'PARAM_ERROR', detail: { field: '/payer/openid' } });
    const otherApp = createPayClient({ ...clientOpts, appid: 'wxOTHERAPP' });
    await expect(
      otherApp.jsapiPrepay({ description: 'x', outTradeNo: tradeNo(), amountFen: 1, openid, timeExpire: new Date(Date.now() + 600_000), notifyUrl }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'APPID_MCHID_NOT_MATCH',
    });
  });

  it('stops the payment sheet after time_expire while queries still say NOTPAY', async () => {
    const no = tradeNo();
    const p = await prepay(no, 100, { timeExpire: new Date(Date.now() + 60_000) });
    offsetMs = 61_000;
    const { appId: _a, prepayId: _b, ...sheet } = p;
    expect(await devicePay(sheet)).toMatchObject({ errMsg: 'requestPayment:fail cancel', reason: '订单已过期，请重新下单' });
    expect((await client.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');
  });

  it('rejects requests signed with another key, another serial or another mchid (401 SIGN_ERROR, unsigned)', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrongKey = createPayClient({ ...clientOpts, merchantKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const e = await wrongKey.queryByOutTradeNo('HB-ANY-ORDER').catch((x) => x);
    expect(e).toBeInstanceOf(PayApiError);
    expect(e).toMatchObject({ status: 401, code: 'SIGN_ERROR' });
    await expect(createPayClient({ ...clientOpts, mchid: '1900000999' }).queryByOutTradeNo('HB-ANY-ORDER')).rejects.toMatchObject({
      status: 401,
      code: 'SIGN_ERROR',
    });
    await expect(createPayClient({ ...clientOpts, merchantCertPem: keys.platformCertPem }).queryByOutTradeNo('HB-ANY-ORDER')).rejects.toMatchObject({
      status: 401,
      code: 'SIGN_ERROR',
    });

    // raw: no signature headers on SIGN_ERROR
    const res = await fetch(`${sandbox.url}/v3/pay/transactions/out-trade-no/HB-ANY?mchid=${opts.mchid}`, {
      headers: { Authorization: 'WECHATPAY2-SHA256-RSA2048 mchid="1900000001"' },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('wechatpay-signature')).toBeNull();
    expect(await res.json()).toMatchObject({ code: 'SIGN_ERROR' });

    // a nonce of any length and a lowercase serial are fine (the library sends 10-11 chars)
    const lib = new WxPay({ appid: opts.appid, mchid: opts.mchid, publicKey: Buffer.from(keys.merchantCertPem), privateKey: Buffer.from(keys.merchantKeyPem) });
    const url = `/v3/pay/transactions/out-trade-no/HB-ANY?mchid=${opts.mchid}`;
    const ts = Math.floor(Date.now() / 1000).toString();
    const sigOk = lib.getSignature('GET', 'n', ts, url, undefined);
    const auth = `WECHATPAY2-SHA256-RSA2048 signature="${sigOk}",timestamp="${ts}",serial_no="${keys.merchantSerial.toLowerCase()}",nonce_str="n",mchid="${opts.mchid}"`;
    const ok = await fetch(sandbox.url + url, { headers: { Authorization: auth, Accept: 'application/json' } });
    expect(ok.status).toBe(404); // past the signature check: ORDER_NOT_EXIST
    // a stale timestamp is a SIGN_ERROR
    const old = String(Number(ts) - 600);
    const staleAuth = `WECHATPAY2-SHA256-RSA2048 mchid="${opts.mchid}",nonce_str="n",timestamp="${old}",serial_no="${keys.merchantSerial}",signature="${lib.getSignature('GET', 'n', old, url, undefined)}"`;
    expect((await fetch(sandbox.url + url, { headers: { Authorization: staleAuth } })).status).toBe(401);
  });

  it('refuses answers it cannot verify and reports network failures', async () => {
    const { publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrongPlatform = createPayClient({
      ...clientOpts,
      platformCerts: [{ serial: keys.platformSerial.toLowerCase(), pem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    });
    await expect(
      wrongPlatform.jsapiPrepay({ description: 'x', outTradeNo: tradeNo(), amountFen: 1, openid, timeExpire: new Date(Date.now() + 600_000), notifyUrl }),
    ).rejects.toMatchObject({
      code: 'RESPONSE_SIGNATURE_INVALID',
    });
    const noCerts = createPayClient({ ...clientOpts, platformCerts: [] });
    await expect(noCerts.queryByOutTradeNo('x'.repeat(8)).catch((e) => e)).resolves.toMatchObject({ code: 'ORDER_NOT_EXIST' }); // errors aren't verified
    const no = tradeNo();
    await prepay(no);
    await expect(noCerts.queryByOutTradeNo(no)).rejects.toMatchObject({
      code: 'RESPONSE_SIGNATURE_INVALID',
      message: expect.stringContaining('UNKNOWN_SERIAL'),
    });
    // the platform public key in "public-key mode" form verifies as well
    const pubKeyMode = createPayClient({ ...clientOpts, platformCerts: [{ serial: keys.platformSerial, pem: keys.platformPublicKeyPem }] });
    expect((await pubKeyMode.queryByOutTradeNo(no)).trade_state).toBe('NOTPAY');

    const down = createPayClient({ ...clientOpts, baseUrl: 'http://127.0.0.1:9' });
    const e = await down.queryByOutTradeNo(no).catch((x) => x);
    expect(e).toBeInstanceOf(PayApiError);
    expect(e).toMatchObject({ status: null, code: 'NETWORK_ERROR' });
  });

  it('refunds fully and partially, refuses over-refunds, and notifies REFUND.SUCCESS', async () => {
    const no = tradeNo();
    await prepay(no, 1000);
    await expect(client.refund({ outTradeNo: no, outRefundNo: `R${no}-0`, refundFen: 1, totalFen: 1000, reason: '测试', notifyUrl })).rejects.toMatchObject({
      status: 404,
      code: 'RESOURCE_NOT_EXISTS',
    });
    sandbox.state.markOrderPaid(no);

    const r1 = await client.refund({ outTradeNo: no, outRefundNo: `R${no}-1`, refundFen: 300, totalFen: 1000, reason: '报停退费', notifyUrl });
    expect(r1).toMatchObject({ status: 'PROCESSING', out_trade_no: no, amount: { refund: 300, total: 1000, currency: 'CNY' }, channel: 'ORIGINAL' });
    expect(r1.refund_id).toMatch(/^50\d{27}$/);
    // a retry with the same out_refund_no is the same refund
    const again = await client.refund({ outTradeNo: no, outRefundNo: `R${no}-1`, refundFen: 300, totalFen: 1000, reason: '报停退费', notifyUrl });
    expect(again.refund_id).toBe(r1.refund_id);
    await expect(client.refund({ outTradeNo: no, outRefundNo: `R${no}-2`, refundFen: 701, totalFen: 1000, notifyUrl })).rejects.toMatchObject({
      status: 400,
      code: 'INVALID_REQUEST',
      message: '申请退款金额超过订单可退金额',
    });
    const r2 = await client.refund({ outTradeNo: no, outRefundNo: `R${no}-3`, refundFen: 700, totalFen: 1000, notifyUrl });
    await expect(client.refund({ outTradeNo: no, outRefundNo: `R${no}-4`, refundFen: 1, totalFen: 1000, notifyUrl })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });

    const notes = await waitFor(() => {
      const n = received.filter((r) => r.ok?.eventType === 'REFUND.SUCCESS' && r.ok.resource.out_trade_no === no);
      return n.length === 2 && n;
    });
    for (const n of notes) {
      expect(n.ok!.summary).toBe('退款成功');
      expect(JSON.parse(n.rawBody).resource).toMatchObject({ original_type: 'refund', associated_data: 'refund' });
      expect(n.ok!.resource).toMatchObject({ mchid: opts.mchid, refund_status: 'SUCCESS', amount: { total: 1000 } });
    }
    expect(notes.map((n) => n.ok!.resource.refund_id).sort()).toEqual([r1.refund_id, r2.refund_id].sort());
    expect(await client.queryRefund(`R${no}-1`)).toMatchObject({ status: 'SUCCESS', success_time: expect.stringMatching(/\+08:00$/) });
    expect((await client.queryByOutTradeNo(no)).trade_state).toBe('REFUND');
    await expect(client.queryRefund('R-NO-SUCH')).rejects.toMatchObject({ status: 404, code: 'RESOURCE_NOT_EXISTS' });

    // a full refund in one go
    const full = tradeNo();
    await prepay(full, 2500);
    sandbox.state.markOrderPaid(full);
    const rf = await client.refund({ outTradeNo: full, outRefundNo: `R${full}`, refundFen: 2500, totalFen: 2500 });
    expect(rf.status).toBe('PROCESSING');
    await sandbox.state.completeRefund(`R${full}`);
    expect((await client.queryRefund(`R${full}`)).status).toBe('SUCCESS');
  });
});
