/**
 * `kill -9` of the BFF in the middle of a burst of WeChat Pay notifications: after a restart on
 * the same database, every payment WeChat took is credited exactly once. The BFF runs as a child
 * process (`tsx src/main.ts`, migrations and demo seed as with `npm start`); the WeChat simulator
 * runs here, outside it, so that it survives the kill and retries its notifications the way
 * WeChat does (on a short schedule).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { childBffEnv, exited, type ChildBffEnv } from '../../test-support/child-bff';
import { createDataSource } from '../../db';
import { demoHouseholds } from '../../demo/seed';

let env: ChildBffEnv;

beforeAll(async () => {
  // WeChat retries an unanswered notification after 15 s, 15 s, 30 s, …; here quickly
  env = await childBffEnv({ notifyRetryScheduleMs: [300, 500, 1_000, 1_000, 2_000, 2_000, 3_000, 3_000, 5_000, 5_000, 5_000] });
}, 60_000);
afterAll(async () => env?.close());

it('credits every payment exactly once after a kill -9 in the middle of a notification burst', async () => {
  let child = await env.start();
  const sb = env.sandbox;

  // two residents, 12 bound accounts, one pending WeChat Pay order per unpaid bill
  const households = demoHouseholds().slice(0, 12);
  const payers: { user: string; token: string }[] = [];
  for (const [i, group] of [households.slice(0, 6), households.slice(6)].entries()) {
    const user = `crash-payer-${i}`;
    const token = await env.loginResident(user);
    for (const h of group)
      expect((await env.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName } })).status).toBe(201);
    payers.push({ user, token });
  }
  const orders: { user: string; outTradeNo: string; requestPayment: Record<string, string> }[] = [];
  for (const p of payers) {
    const bills = (await env.call('GET', '/api/v1/bills', { token: p.token })).body.items.filter(
      (b: any) => b.status === 'unpaid' && b.dueFen > 0 && !b.payFirst,
    );
    for (const b of bills) {
      const created = await env.call('POST', '/api/v1/payments', { token: p.token, body: { billId: b.id } });
      expect(created.status).toBe(201);
      orders.push({ user: p.user, outTradeNo: created.body.outTradeNo, requestPayment: created.body.requestPayment });
    }
  }
  expect(orders.length).toBeGreaterThanOrEqual(12);

  // the burst: every resident confirms on the phone; WeChat notifies the BFF of each payment
  const answered = () => sb.state.notifications.filter((n) => n.status === 204).length;
  const paying = Promise.all(
    orders.map((o) =>
      fetch(`${sb.url}/device/pay`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ ...o.requestPayment, user: o.user, action: 'confirm' }),
      }).then((r) => r.json() as Promise<any>),
    ),
  );
  // kill -9 as soon as WeChat starts notifying: notifications are in flight, and notifications
  // arriving together are credited in one batch, so waiting for some to be answered can see the
  // whole burst done on a quick machine (then nothing would be killed mid-burst)
  const killBy = Date.now() + 20_000;
  while (sb.state.notifications.length === 0 && Date.now() < killBy) await new Promise((r) => setImmediate(r));
  const answeredBeforeKill = answered();
  child.kill('SIGKILL');
  expect(await exited(child)).toBe('SIGKILL');
  expect((await paying).every((a) => a.errMsg === 'requestPayment:ok')).toBe(true);
  expect(answeredBeforeKill).toBeLessThan(orders.length);

  // restart on the same database; WeChat's retries reach the new process
  const restartedAt = Date.now();
  child = await env.start();
  const restartMs = Date.now() - restartedAt;
  const settleBy = Date.now() + 45_000;
  while ([...sb.state.notificationEvents.values()].some((e) => !e.delivered) && Date.now() < settleBy) await new Promise((r) => setTimeout(r, 200));
  await sb.state.settleNotifications();

  // WeChat's side: every order paid; ours: exactly one payment ledger entry for each, nothing else
  const paid = [...sb.state.orders.values()].filter((o) => o.tradeState === 'SUCCESS');
  expect(paid.map((o) => o.outTradeNo).sort()).toEqual(orders.map((o) => o.outTradeNo).sort());
  const ds = createDataSource({ url: env.db.url, sqlitePath: env.sqlitePath });
  await ds.initialize();
  try {
    const ledger: { outTradeNo: string; n: number; fen: string }[] = await ds.query(
      "SELECT outTradeNo, COUNT(*) AS n, SUM(amountFen) AS fen FROM ledger_entry WHERE kind = 'payment' GROUP BY outTradeNo",
    );
    const byNo = new Map(ledger.map((l) => [l.outTradeNo, l]));
    for (const o of paid) {
      expect(Number(byNo.get(o.outTradeNo)?.n), o.outTradeNo).toBe(1);
      expect(Number(byNo.get(o.outTradeNo)?.fen), o.outTradeNo).toBe(o.total);
    }
    expect(byNo.size).toBe(paid.length);
    const statuses: { status: string; n: number }[] = await ds.query('SELECT status, COUNT(*) AS n FROM payment_order GROUP BY status');
    expect(statuses.map((s) => [s.status, Number(s.n)])).toEqual([['paid', paid.length]]);
  } finally {
    await ds.destroy();
  }
  const redelivered = [...sb.state.notificationEvents.values()].filter((e) => e.attempts > 1).length;
  console.info(
    `kill -9 with ${answeredBeforeKill} of ${orders.length} notifications answered; restart ${restartMs} ms; ${redelivered} delivered again afterwards; ledger: ${paid.length} payments, each credited once`,
  );
}, 360_000);
