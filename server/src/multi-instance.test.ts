/**
 * Two BFF processes on one database (and one Redis when TEST_REDIS_URL is set), as behind a load
 * balancer: a group message posted through instance A reaches a socket on instance B; the
 * scheduled jobs (payment sweep, repair escalation, reconciliation, upload retention) run once per
 * tick across both (job_lease), the outbox processes each message once, and their work is done
 * once (one escalation, one credit, one reconciliation run for the day); the rate limits and the
 * WeChat access token are shared.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import WebSocket from 'ws';
import { childBffEnv, freePort, type ChildBffEnv } from './test-support/child-bff';
import { installedClockOffset, installShiftedDate } from './test-support/clock';
import { TEST_PNG } from './test-support/app';
import { createDataSource } from './db';
import { JobLease } from './platform/entities';
import { demoHouseholds } from './demo/seed';
import { SESSION_CACHE_MS } from './modules/identity/service';

const REDIS_URL = process.env.TEST_REDIS_URL;
if (!REDIS_URL) console.warn('[multi-instance] realtime across instances skipped: TEST_REDIS_URL is not set (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379)');

// the daily reconciliation runs from 10:00 China time: let this story happen between 10:30 and 23:30
{
  const china = (Date.now() + 8 * 3600_000) % 86_400_000;
  const h = china / 3600_000;
  const to = 10.5 * 3600_000;
  if (h < 10.25) installShiftedDate(installedClockOffset() + (to - china));
  else if (h > 23.5) installShiftedDate(installedClockOffset() + (86_400_000 - china + to));
}

const EVERY_MS = 1_000;
const JOBS = [
  'payment-sweep',
  'repair-escalation',
  'repair-grab-fallback',
  'complaint-escalation',
  'watch-tasks',
  'reconciliation',
  'upload-retention',
  'outbox-retention',
];
const METRICS_TOKEN = 'scrape-token-0123456789abcdef';

let env: ChildBffEnv;
let ds: DataSource;
let urlB = '';
let before: Map<string, JobLease>;

beforeAll(async () => {
  env = await childBffEnv({ instantBills: true });
  const common = {
    JOB_POLL_MS: '100',
    JOB_EVERY_MS: JSON.stringify(Object.fromEntries(JOBS.map((j) => [j, EVERY_MS]))),
    METRICS_TOKEN,
    PAY_SWEEP_AFTER_MINUTES: '1',
    ...(REDIS_URL ? { REDIS_URL } : {}),
  };
  await env.start(common);
  const portB = await freePort();
  urlB = `http://127.0.0.1:${portB}`;
  await env.start({ ...common, PORT: String(portB) });
  ds = createDataSource({ url: env.db.url, sqlitePath: env.sqlitePath });
  await ds.initialize();
  // where each job stands now that both instances run: runs so far and when the last one started
  before = await until('every job has run once', async () => {
    const rows = await ds.getRepository(JobLease).find();
    return JOBS.every((j) => rows.some((r) => r.name === j && r.lastStartedAt)) && new Map(rows.map((r) => [r.name, r]));
  });
}, 400_000);
afterAll(async () => {
  if (ds?.isInitialized) await ds.destroy();
  await env?.close();
});

const A = () => env.url;
async function call(base: string, method: string, p: string, o: { token?: string; body?: unknown } = {}) {
  const res = await fetch(base + p, {
    method,
    headers: { 'Content-Type': 'application/json', ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}) },
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}
async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const stop = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > stop) throw new Error(`not in ${ms} ms: ${what}\n${env.output().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
/** a counter's value from an instance's /metrics, summed over the series matching `labels` */
async function metric(base: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${METRICS_TOKEN}` } })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) sum += Number(line.split(' ').pop());
  }
  return sum;
}

const households = demoHouseholds();
/** an instant as a raw query parameter: a Date for mysql2, TypeORM's UTC text on SQLite */
const at = (ms: number) => (env.db.url ? new Date(ms) : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));

it('a group message posted through A reaches a socket on B; both instances use one WeChat access token', async () => {
  const [h1, h2] = households;
  const poster = await env.loginResident('multi-poster');
  const reader = await env.loginResident('multi-reader');
  expect((await call(A(), 'POST', '/api/v1/accounts/bind', { token: poster, body: { accountNo: h1!.accountNo, ownerName: h1!.ownerName } })).status).toBe(201);
  expect((await call(urlB, 'POST', '/api/v1/accounts/bind', { token: reader, body: { accountNo: h2!.accountNo, ownerName: h2!.ownerName } })).status).toBe(201);
  const groups = (await call(urlB, 'GET', '/api/v1/groups', { token: reader })).body.items;
  const group = groups[0];
  expect((await call(A(), 'GET', '/api/v1/groups', { token: poster })).body.items.map((g: any) => g.id)).toContain(group.id);

  let frames: any[] = [];
  let ws: WebSocket | null = null;
  if (REDIS_URL) {
    ws = new WebSocket(`${urlB.replace(/^http/, 'ws')}/api/v1/ws?token=${reader}`);
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await until('socket ready on B', async () => frames.some((f) => f.type === 'ready'));
  }
  // text goes through WeChat's msgSecCheck (an access token) on the instance that takes the post
  const text = '请问今天几点恢复供热？（经实例A发送）';
  const posted = await call(A(), 'POST', `/api/v1/groups/${group.id}/messages`, { token: poster, body: { text } });
  expect(posted.status).toBe(201);
  const onB = await call(urlB, 'POST', `/api/v1/groups/${group.id}/messages`, { token: reader, body: { text: '谢谢，收到（经实例B发送）' } });
  expect(onB.status).toBe(201);
  if (ws) {
    const frame = await until('the message on B’s socket', async () => frames.find((f) => JSON.stringify(f).includes(text)));
    expect(frame.topic).toBe(`group:${group.id}`);
    ws.close();
    frames = [];
  }
  // one stable token for both instances, fetched once (wechat_access_token)
  expect(env.sandbox.state.stableTokenCalls.length).toBe(1);
  const rows: { appid: string }[] = await ds.query('SELECT appid FROM wechat_access_token');
  expect(rows).toHaveLength(1);
}, 120_000);

it('rate limits are shared: five failed bindings spread over A and B, the sixth is refused on either', async () => {
  const token = await env.loginResident('multi-guesser');
  const h = households[10]!;
  const tries: number[] = [];
  for (const base of [A(), urlB, A(), urlB, A()])
    tries.push((await call(base, 'POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: '不对的名字' } })).status);
  expect(tries).toEqual([400, 400, 400, 400, 400]);
  const sixth = await call(urlB, 'POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: '不对的名字' } });
  expect(sixth.status).toBe(429);
  expect((await call(A(), 'POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } })).status).toBe(429);
}, 60_000);

it('a logout on A ends the session on B too, though B keeps resident sessions in memory', async () => {
  const token = await env.loginResident('multi-leaver');
  // both instances have read (and B has cached) the session
  expect((await call(A(), 'GET', '/api/v1/bills', { token })).status).toBe(200);
  expect((await call(urlB, 'GET', '/api/v1/bills', { token })).status).toBe(200);
  expect((await call(A(), 'POST', '/api/v1/auth/logout', { token })).status).toBeLessThan(300);
  expect((await call(A(), 'GET', '/api/v1/bills', { token })).body?.error?.code).toBe('SESSION_EXPIRED');
  // B hears of it through Redis at once; without Redis its copy runs out after SESSION_CACHE_MS
  const started = Date.now();
  const onB = await until(
    'the session refused on B',
    async () => {
      const r = await call(urlB, 'GET', '/api/v1/bills', { token });
      return r.status === 401 && r.body;
    },
    SESSION_CACHE_MS + 10_000,
  );
  expect(onB.error.code).toBe('SESSION_EXPIRED');
  if (REDIS_URL) expect(Date.now() - started).toBeLessThan(3_000);
}, 60_000);

it('scheduled jobs run once per tick across both instances; sweep, escalation, reconciliation, outbox and retention do their work once', async () => {
  const user = 'multi-payer';
  const token = await env.loginResident(user);
  const h = households[20]!;
  const bound = await call(A(), 'POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } });
  expect(bound.status).toBe(201);
  const accountId: number = bound.body.accountId;

  // a payment whose notification never arrives: paid at WeChat, found by the sweeper
  const bill = (await call(A(), 'GET', '/api/v1/bills', { token })).body.items.find((b: any) => b.status === 'unpaid' && b.dueFen > 0);
  const order = await call(urlB, 'POST', '/api/v1/payments', { token, body: { billId: bill.id } });
  expect(order.status).toBe(201);
  const outTradeNo: string = order.body.outTradeNo;
  env.sandbox.state.markOrderPaid(outTradeNo);
  await ds.query('UPDATE payment_order SET createdAt = ? WHERE outTradeNo = ?', [at(Date.now() - 10 * 60_000), outTradeNo]);

  // a repair ticket nobody contacted in time
  const repair = await call(urlB, 'POST', '/api/v1/repairs', { token, body: { accountId, category: 'no_heat', description: '暖气片一点也不热' } });
  expect(repair.status, JSON.stringify(repair.body)).toBe(201);
  const ticketId: number = repair.body.id;
  await ds.query('UPDATE repair_ticket SET contactDueAt = ? WHERE id = ?', [at(Date.now() - 60 * 60_000), ticketId]);

  // a photo uploaded and never used, two days ago
  const form = new FormData();
  form.append('purpose', 'repair_photo');
  form.append('file', new Blob([new Uint8Array(TEST_PNG)], { type: 'image/png' }), 'p.png');
  const up: any = await (await fetch(`${A()}/api/v1/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${token}` }, body: form })).json();
  await ds.query('UPDATE upload SET createdAt = ? WHERE `key` = ?', [at(Date.now() - 2 * 86_400_000), up.key]);

  // the work gets done…
  await until(
    'credited by the sweeper',
    async () => (await ds.query('SELECT status FROM payment_order WHERE outTradeNo = ?', [outTradeNo]))[0]?.status === 'paid',
  );
  await until(
    'escalated',
    async () => Number((await ds.query('SELECT escalationLevel FROM repair_ticket WHERE id = ?', [ticketId]))[0]?.escalationLevel) === 1,
  );
  const china = new Date(Date.now() + 8 * 3600_000);
  const yesterday = new Date(Date.UTC(china.getUTCFullYear(), china.getUTCMonth(), china.getUTCDate() - 1)).toISOString().slice(0, 10);
  await until('yesterday reconciled', async () =>
    ['balanced', 'differences'].includes((await ds.query('SELECT status FROM recon_day WHERE billDate = ?', [yesterday]))[0]?.status),
  );
  await until('orphan photo removed', async () => (await ds.query('SELECT COUNT(*) AS n FROM upload WHERE `key` = ?', [up.key]))[0].n == 0);
  // … and a few more ticks on both instances change nothing
  await new Promise((r) => setTimeout(r, 4 * EVERY_MS));

  const ledger = await ds.query("SELECT COUNT(*) AS n FROM ledger_entry WHERE kind = 'payment' AND outTradeNo = ?", [outTradeNo]);
  expect(Number(ledger[0].n)).toBe(1);
  const paidMoves = await ds.query("SELECT COUNT(*) AS n FROM state_transition WHERE subjectType = 'payment_order' AND toState = 'paid'");
  expect(Number(paidMoves[0].n)).toBe(1);
  const escalations = await ds.query("SELECT COUNT(*) AS n FROM state_transition WHERE subjectType = 'repair' AND subjectId = ? AND reason LIKE '超时升级%'", [
    ticketId,
  ]);
  expect(Number(escalations[0].n)).toBe(1);
  const notices: { staffId: number }[] = await ds.query("SELECT staffId FROM repair_staff_notice WHERE ticketId = ? AND kind = 'escalation'", [ticketId]);
  expect(notices.length).toBeGreaterThan(0);
  expect(new Set(notices.map((n) => Number(n.staffId))).size).toBe(notices.length); // one notice per supervisor
  const day = (await ds.query('SELECT runs FROM recon_day WHERE billDate = ?', [yesterday]))[0];
  expect(Number(day.runs)).toBe(1);
  // the outbox: every message claimed once, processed by one of the two instances
  const outbox: { status: string; attempts: number }[] = await ds.query('SELECT status, attempts FROM outbox_message');
  const processed = outbox.filter((m) => m.status !== 'pending' || Number(m.attempts) > 0);
  expect(processed.length).toBeGreaterThan(0);
  expect(outbox.filter((m) => Number(m.attempts) > 1)).toEqual([]);
  const outboxA = await metric(A(), 'hb_outbox_processed_total');
  const outboxB = await metric(urlB, 'hb_outbox_processed_total');
  expect(outboxA + outboxB).toBe(processed.length);

  // every job: at most one run per tick across both instances — the runs since the snapshot taken
  // when both were up started at least EVERY_MS apart (two instances each running every tick
  // would make twice as many)
  // the jobs keep ticking while this reads, so the metrics are scraped just before and just after
  // the lease rows: a run is counted in job_lease when it is claimed and in hb_job_runs_total when
  // it ends, hence (finished before) <= runs <= (finished after) + the one that may still be running
  const jobRuns = async () => {
    const counts = new Map<string, { a: number; b: number }>();
    for (const job of JOBS) counts.set(job, { a: await metric(A(), 'hb_job_runs_total', { job }), b: await metric(urlB, 'hb_job_runs_total', { job }) });
    return counts;
  };
  const finishedBefore = await jobRuns();
  const leases = new Map((await ds.getRepository(JobLease).find()).map((r) => [r.name, r]));
  const finishedAfter = await jobRuns();
  const report: string[] = [];
  for (const job of JOBS) {
    const [was, now] = [before.get(job)!, leases.get(job)!];
    const runs = now.runs;
    const since = now.runs - was.runs;
    const elapsed = now.lastStartedAt!.getTime() - was.lastStartedAt!.getTime();
    const [pre, post] = [finishedBefore.get(job)!, finishedAfter.get(job)!];
    // every failure names the job and its figures
    const what = `${job}: ${since} runs since the snapshot, ${elapsed} ms between their first and last start (${runs} in all; finished before the read A ${pre.a}, B ${pre.b}; after it A ${post.a}, B ${post.b})`;
    expect(since, what).toBeGreaterThan(2);
    expect(since, what).toBeLessThanOrEqual(Math.floor(elapsed / EVERY_MS));
    // each claimed tick ran on exactly one instance
    expect(pre.a + pre.b, what).toBeLessThanOrEqual(runs);
    expect(post.a + post.b, what).toBeGreaterThanOrEqual(runs - 1);
    report.push(`${job}: ${since} runs in ${(elapsed / 1000).toFixed(1)} s between the first and last of them (in all ${runs}: A ${post.a}, B ${post.b})`);
  }
  console.info(`two instances, jobs every ${EVERY_MS} ms:\n  ${report.join('\n  ')}\n  outbox: ${processed.length} messages (A ${outboxA}, B ${outboxB})`);
}, 240_000);
