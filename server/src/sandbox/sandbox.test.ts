import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createSandbox, sandboxKeys, sandboxPayCredentials, startSandbox } from './index';
import { createPayClient, type PayClient, type PayClientOptions } from '../wechat/pay';
import { createMiniProgramClient } from '../wechat/miniprogram';

const opts = { appid: 'wx00000000sandbox', secret: 'sandbox-secret', mchid: '1900000001', apiV3Key: 'sandboxApiV3Key0123456789abcdefg' };
const keys = sandboxKeys();
const clientOpts = (baseUrl: string, extra: Partial<PayClientOptions> = {}): PayClientOptions => ({
  baseUrl,
  appid: opts.appid,
  mchid: opts.mchid,
  apiV3Key: opts.apiV3Key,
  ...sandboxPayCredentials(),
  ...extra,
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function listen(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function started(extra: Partial<Parameters<typeof startSandbox>[0]> = {}) {
  const sb = await startSandbox({ ...opts, ...extra });
  cleanups.push(() => sb.close());
  return sb;
}

const chinaToday = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
let seq = 0;
const no = () => `SB${Date.now()}${seq++}`;
/** a JSAPI order of 0.01 元 by oX for 10 minutes, unless `over` says otherwise */
const prepay = (pay: PayClient, over: Partial<Parameters<PayClient['jsapiPrepay']>[0]> = {}) =>
  pay.jsapiPrepay({
    description: 'x',
    outTradeNo: no(),
    amountFen: 1,
    openid: 'oX',
    timeExpire: new Date(Date.now() + 600_000),
    notifyUrl: 'http://127.0.0.1:9/notify',
    ...over,
  });

describe('sandbox', () => {
  it('works mounted under /sandbox the way the BFF mounts it (prefix stripped, signatures intact)', async () => {
    const sb = createSandbox(opts);
    cleanups.push(() => sb.close());
    const sim = sb.app.callback();
    const url = await listen((req, res) => {
      if (req.url?.startsWith('/sandbox/')) {
        req.url = req.url.slice('/sandbox'.length);
        return sim(req, res);
      }
      res.statusCode = 404;
      res.end();
    });
    const pay = createPayClient(clientOpts(`${url}/sandbox`));
    const n = no();
    const p = await prepay(pay, { description: '采暖费', outTradeNo: n, amountFen: 100, notifyUrl: `${url}/api/v1/wechat/pay/notify` });
    expect(p.package).toMatch(/^prepay_id=/);
    expect((await pay.queryByOutTradeNo(n)).trade_state).toBe('NOTPAY');
    await pay.close(n); // a signed 204: the client verified `ts\nnonce\n\n`
    expect(sb.state.orders.get(n)?.tradeState).toBe('CLOSED');

    const login = await fetch(`${url}/sandbox/device/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: 'demo' }),
    });
    const { code } = (await login.json()) as { code: string };
    const mini = createMiniProgramClient({ baseUrl: `${url}/sandbox`, appid: opts.appid, secret: opts.secret });
    expect((await mini.code2Session(code)).openid).toMatch(/^o/);
  });

  it('signs every 2xx answer with the platform key and a Request-ID', async () => {
    const sb = await started();
    const pay = createPayClient(clientOpts(sb.url));
    let seen: Headers | null = null;
    const spy = createPayClient(
      clientOpts(sb.url, {
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          seen = res.headers;
          return res;
        },
      }),
    );
    const n = no();
    await prepay(pay, { outTradeNo: n });
    await spy.queryByOutTradeNo(n);
    const h = seen! as Headers;
    expect(h.get('wechatpay-serial')).toBe(keys.platformSerial);
    expect(h.get('wechatpay-signature-type')).toBe('WECHATPAY2-SHA256-RSA2048');
    expect(h.get('wechatpay-timestamp')).toMatch(/^\d{10}$/);
    expect(h.get('request-id')).toMatch(/^[0-9A-F]{40}-0$/);
    expect(h.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('speaks public-key mode (Wechatpay-Serial PUB_KEY_ID_…) when configured', async () => {
    const id = 'PUB_KEY_ID_0119000000012026112400000000000001';
    const sb = await started({ platformSerial: id });
    const pay = createPayClient(clientOpts(sb.url, { platformCerts: [{ serial: id, pem: keys.platformPublicKeyPem }] }));
    const n = no();
    await prepay(pay, { outTradeNo: n });
    expect((await pay.queryByOutTradeNo(n)).trade_state).toBe('NOTPAY');
    const note = sb.state.buildNotification({ plaintext: { out_trade_no: n } });
    expect(note.headers['wechatpay-serial']).toBe(id);
    expect(pay.verifyAndDecryptNotification({ headers: note.headers, rawBody: note.body }).resource).toEqual({ out_trade_no: n });
    // a client that only knows the certificate serial rejects it without any outbound call
    const certOnly = createPayClient(clientOpts(sb.url));
    expect(() => certOnly.verifyAndDecryptNotification({ headers: note.headers, rawBody: note.body })).toThrow(
      expect.objectContaining({ reason: 'UNKNOWN_SERIAL' }),
    );
  });

  it('stops retrying notifications when closed', async () => {
    let hits = 0;
    const receiver = await listen((_req, res) => {
      hits++;
      res.statusCode = 503;
      res.end();
    });
    const sb = createSandbox({ ...opts, notifyRetryScheduleMs: [80, 80, 80] });
    const server = http.createServer(sb.app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const pay = createPayClient(clientOpts(url));
    const p = await prepay(pay, { notifyUrl: `${receiver}/notify` });
    const { appId: _a, prepayId: _b, ...sheet } = p;
    const paid = await fetch(`${url}/device/pay`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...sheet, action: 'confirm' }),
    });
    expect(await paid.json()).toEqual({ errMsg: 'requestPayment:ok' });
    await sb.state.settleNotifications();
    expect(hits).toBe(1);
    await sb.close();
    await new Promise((r) => setTimeout(r, 250));
    expect(hits).toBe(1);
    expect(sb.state.notifications.map((n) => n.status)).toEqual([503]);
  });

  it("produces trade bills in WeChat's CSV format, plain and gzipped, with a matching SHA1", async () => {
    const sb = await started({ instantBills: true, refundSuccessDelayMs: 10_000 });
    const pay = createPayClient(clientOpts(sb.url));
    const paid: string[] = [];
    for (const amount of [123456, 2500]) {
      const n = no();
      await prepay(pay, { description: '供热管家-采暖费', outTradeNo: n, amountFen: amount, openid: 'oResident', attach: 'HB-0001' });
      sb.state.markOrderPaid(n);
      paid.push(n);
    }
    await prepay(pay, { description: '未支付', amountFen: 99, openid: 'oResident' });
    await pay.refund({ outTradeNo: paid[1], outRefundNo: `R${paid[1]}`, refundFen: 1000, totalFen: 2500 });
    await sb.state.completeRefund(`R${paid[1]}`);

    const { csv, hashValue } = await pay.tradeBill({ billDate: chinaToday() });
    expect(hashValue).toMatch(/^[0-9a-f]{40}$/);
    expect(csv.startsWith('\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,')).toBe(true);
    expect(csv.endsWith('\r\n')).toBe(true);
    const lines = csv.slice(1).split('\r\n').slice(0, -1);
    expect(lines).toHaveLength(1 + 3 + 2);
    const header = lines[0].split(',');
    expect(header).toHaveLength(27);
    const rows = lines.slice(1, 4).map((l) => l.split(','));
    for (const r of rows) {
      expect(r).toHaveLength(27);
      expect(r.every((f) => f.startsWith('`'))).toBe(true);
    }
    const col = (r: string[], name: string) => r[header.indexOf(name)].slice(1);
    const first = rows.find((r) => col(r, '商户订单号') === paid[0])!;
    expect(col(first, '交易状态')).toBe('SUCCESS');
    expect(col(first, '应结订单金额')).toBe('1234.56');
    expect(col(first, '微信退款单号')).toBe('0');
    expect(col(first, '特约商户号')).toBe('0');
    expect(col(first, '手续费')).toBe('7.41000');
    expect(col(first, '费率')).toBe('0.60%');
    expect(col(first, '商户数据包')).toBe('HB-0001');
    expect(col(first, '交易时间')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const refund = rows.find((r) => col(r, '交易状态') === 'REFUND')!;
    expect(col(refund, '商户退款单号')).toBe(`R${paid[1]}`);
    expect(col(refund, '退款金额')).toBe('10.00');
    expect(col(refund, '退款状态')).toBe('SUCCESS');
    expect(lines[4]).toBe('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额');
    expect(lines[5]).toBe('`3,`1259.56,`10.00,`0.00,`7.50000,`1259.56,`10.00');

    const gz = await pay.tradeBill({ billDate: chinaToday(), gzip: true });
    expect(gz.csv).toBe(csv);
    const success = await pay.tradeBill({ billDate: chinaToday(), billType: 'SUCCESS' });
    expect(success.csv.split('\r\n')[0].split(',')).not.toContain('微信退款单号');
    const refunds = await pay.tradeBill({ billDate: chinaToday(), billType: 'REFUND' });
    expect(refunds.csv.split('\r\n')[0]).toContain('退款申请时间,退款成功时间');
    expect(refunds.csv.split('\r\n')).toHaveLength(1 + 1 + 2 + 1);

    const yesterday = new Date(Date.now() + 8 * 3600_000 - 24 * 3600_000).toISOString().slice(0, 10);
    await expect(pay.tradeBill({ billDate: yesterday })).rejects.toMatchObject({ status: 400, code: 'NO_STATEMENT_EXIST', message: '账单文件不存在' });
    await expect(pay.tradeBill({ billDate: '2000-01-01' })).rejects.toMatchObject({ status: 400, code: 'INVALID_REQUEST' });
    const notReady = await started();
    await expect(createPayClient(clientOpts(notReady.url)).tradeBill({ billDate: chinaToday() })).rejects.toMatchObject({
      status: 400,
      code: 'STATEMENT_CREATING',
    });
  });
});
