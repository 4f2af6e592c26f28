/**
 * GET /metrics as Prometheus scrapes it: only with METRICS_TOKEN (404 when none is configured,
 * 401 for a wrong one), request counts and latency by route template (never a raw path with an
 * id in it), WeChat Pay notification outcomes, outbox depth and age, job runs, WebSocket
 * connections, reconciliation results; and the access log line of a request, with its id.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../test-support/app';
import { createLogger } from './logger';
import { DEMO } from '../demo/seed';

const TOKEN = 'metrics-scrape-token-0123456789';
const lines: string[] = [];
let t: TestApp;

beforeAll(async () => {
  t = await startTestApp({
    seedDemo: true,
    instantBills: true,
    config: { METRICS_TOKEN: TOKEN, JOB_EVERY_MS: { 'payment-sweep': 100 } },
    logger: createLogger('info', { write: (line: string) => void lines.push(line) }),
  });
});
afterAll(async () => t?.close());

const scrape = (token?: string) => fetch(`${t.url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

it('is not public: 401 without or with a wrong token, 404 when no token is configured', async () => {
  expect((await scrape()).status).toBe(401);
  expect((await scrape('wrong-token-wrong-token-wrong')).status).toBe(401);
  const plain = await startTestApp({});
  try {
    const res = await fetch(`${plain.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('NOT_FOUND');
  } finally {
    await plain.close();
  }
});

it('counts requests by route template, pay notifications, outbox, jobs, sockets and reconciliation; the access log carries the request id', async () => {
  const token = await t.loginResident('metrics-watcher');
  const acc = DEMO.accounts[0]!;
  const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, phoneLast4: acc.phoneLast4 } });
  expect(bound.status).toBe(201);
  const id = bound.body.accountId as number;
  for (let i = 0; i < 3; i++)
    expect((await t.call('GET', `/api/v1/accounts/${id}`, { token, headers: { 'X-Request-Id': `metrics-req-${i}-abcdef` } })).status).toBe(200);
  expect((await t.call('GET', '/api/v1/no-such-thing/12345')).status).toBe(404);
  // a forged WeChat Pay notification
  expect(
    (
      await t.call('POST', '/api/v1/wechat/pay/notify', {
        rawBody: '{"id":"x"}',
        headers: {
          'Content-Type': 'application/json',
          'Wechatpay-Serial': 'X',
          'Wechatpay-Signature': 'bad',
          'Wechatpay-Timestamp': String(Math.floor(Date.now() / 1000)),
          'Wechatpay-Nonce': 'n',
        },
      })
    ).status,
  ).toBe(401);
  // a job tick, a reconciliation of yesterday, an open socket
  expect(await t.jobs.tick('payment-sweep')).toBe('not_due'); // first due one interval after start
  await new Promise((r) => setTimeout(r, 150));
  expect(await t.jobs.tick('payment-sweep')).toBe('ran');
  const china = new Date(Date.now() + 8 * 3600_000);
  const yesterday = new Date(Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), china.getUTCDate() - 1)).toISOString().slice(0, 10);
  const day = await t.services.reconciliation.run(yesterday);
  const ws = new WebSocket(`${t.url.replace(/^http/, 'ws')}/api/v1/ws?token=${token}`);
  await new Promise((resolve, reject) => {
    ws.once('message', resolve);
    ws.once('error', reject);
  });

  const res = await scrape(TOKEN);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const text = await res.text();
  expect(value(text, 'hb_http_requests_total{method="GET",route="/api/v1/accounts/:accountId",status="200"}')).toBe(3);
  expect(text).toContain('hb_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/accounts/:accountId"}');
  // a Prometheus histogram: cumulative buckets up to +Inf, which is the count; the sum of the seconds
  const series = 'method="GET",route="/api/v1/accounts/:accountId"';
  expect(value(text, `hb_http_request_duration_seconds_count{${series}}`)).toBe(3);
  expect(value(text, `hb_http_request_duration_seconds_bucket{le="+Inf",${series}}`)).toBe(3);
  expect(value(text, `hb_http_request_duration_seconds_bucket{le="10",${series}}`)).toBe(3);
  const buckets = [
    ...text.matchAll(new RegExp(`^hb_http_request_duration_seconds_bucket\\{le="[^"]+",${series.replace(/[/:]/g, (c) => `\\${c}`)}\\} (\\d+)$`, 'gm')),
  ].map((m) => Number(m[1]));
  expect(buckets).toHaveLength(12);
  expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  expect(value(text, `hb_http_request_duration_seconds_sum{${series}}`)).toBeGreaterThan(0);
  expect(value(text, 'hb_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
  expect(text).not.toContain(`/api/v1/accounts/${id}"`);
  // no label holds a raw path (a bare substring check also matched figures such as a memory size)
  expect(text).not.toContain('no-such-thing');
  expect(value(text, 'hb_wxpay_notifications_total{outcome="rejected"}')).toBe(1);
  expect(value(text, 'hb_job_runs_total{job="payment-sweep",outcome="ok"}')).toBe(1);
  expect(value(text, 'hb_ws_connections')).toBe(1);
  expect(value(text, `hb_reconciliation_runs_total{status="${day.status}"}`)).toBe(1);
  expect(text).toMatch(new RegExp(`hb_reconciliation_discrepancies\\{bill_date="${yesterday}",class="surplus"\\} \\d+`));
  expect(value(text, 'hb_outbox_pending')).toEqual(expect.any(Number));
  expect(value(text, 'hb_outbox_oldest_pending_age_seconds')).toEqual(expect.any(Number));
  expect(text).toContain('hb_invoice_issue_seconds_count');
  expect(text).toContain('hb_process_resident_memory_bytes');
  ws.close();

  const access = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.reqId === 'metrics-req-1-abcdef');
  expect(access).toMatchObject({ method: 'GET', path: `/api/v1/accounts/${id}`, route: '/api/v1/accounts/:accountId', status: 200, ip: '127.0.0.1' });
  expect(access.ms).toEqual(expect.any(Number));
});
