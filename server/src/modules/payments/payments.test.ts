/**
 * Bills and WeChat Pay end to end: the real BFF on loopback, the real wechatpay-node-v3 client,
 * the WeChat Pay simulator (signatures, notifications) and a real database (MariaDB in CI).
 */
import crypto from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { chinaDate, quoteBill } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { transactionPlaintext as plaintextFor } from '../../test-support/wechat-pay';
import { DEMO, demoHouseholds, demoSeason } from '../../demo/seed';
import mysql from 'mysql2/promise';
import { registry } from '../../platform/metrics';
import { mysqlUrl } from '../../platform/db/data-source';
import { usingMariaDb } from '../../test-support/db';
import { LedgerEntry, PaymentAnomaly, PaymentOrder, Refund } from './entities';

/** last season and this season of the demo, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];

const t = testAppForFile();
let finance: string;
beforeAll(async () => {
  finance = await t.loginStaff('finance1');
});

const sandbox = () => t.sandbox!.state;

async function currentBill(token: string, accountNo: string, season = CURRENT) {
  const res = await t.call('GET', '/api/v1/bills', { token });
  expect(res.status).toBe(200);
  return res.body.items.find((b: any) => b.accountNo === accountNo && b.season === season);
}

/** What WeChat's payment sheet does when the resident confirms (or cancels). */
async function payOnDevice(user: string, requestPayment: Record<string, string>, action: 'confirm' | 'cancel' = 'confirm') {
  const res = await t.call('POST', '/sandbox/device/pay', { body: { ...requestPayment, user, action } });
  await sandbox().settleNotifications();
  return res.body.errMsg as string;
}

async function ledgerOf(outTradeNo: string) {
  return t.ds.getRepository(LedgerEntry).find({ where: { outTradeNo }, order: { id: 'ASC' } });
}

const transactionPlaintext = (order: { outTradeNo: string; amountFen: number }, over: Record<string, unknown> = {}) => plaintextFor(t, order, over);

const notify = (n: { body: string; headers: Record<string, string> }) => t.call('POST', '/api/v1/wechat/pay/notify', { rawBody: n.body, headers: n.headers });

describe('bills', () => {
  it('shows every bound account’s bills with the computation, arrears first', async () => {
    const owed = DEMO.arrearsAccounts[0]!;
    const r = await t.residentWith(owed);
    const res = await t.call('GET', '/api/v1/bills', { token: r.token });
    const [first, second] = res.body.items;
    expect(first).toMatchObject({ accountNo: owed.accountNo, season: LAST, status: 'unpaid', arrears: true, seasonLabel: `${LAST.replace('-', '—')}采暖季` });
    expect(second).toMatchObject({ accountNo: owed.accountNo, season: CURRENT, status: 'unpaid', arrears: false });
    // last season is long overdue: the late fee has reached its 10% cap
    expect(first.lateFeeFen).toBe(Math.floor((first.chargeFen * 1000 + 5000) / 10000));
    // the computation is on the bill's own page
    const { lines } = (await t.call('GET', `/api/v1/bills/${first.id}`, { token: r.token })).body;
    expect(lines.map((l: any) => l.label)).toEqual(['供热费', '滞纳金']);
    expect(lines[0].detail).toMatch(/^\d+\.\d{2}㎡ × 27\.00元\/㎡$/);
    expect(first.dueFen).toBe(first.chargeFen + first.lateFeeFen);
    expect(res.body.totalDueFen).toBe(first.dueFen + second.dueFen);
    // the same rules on both sides: the mini-program's shared quote gives the same figure
    const season = DEMO.seasons[1]!;
    expect(quoteBill({ chargeFen: second.chargeFen, paidFen: 0, lines: [] }, season, chinaDate(new Date())).dueFen).toBe(second.dueFen);
  });

  it('charges a stopped household the base fee, and explains it', async () => {
    const bills = await t.services.billing.billsOfSeason(CURRENT);
    const stopped = (await t.ds.query(`SELECT id FROM account WHERE status = 'stopped'`)) as { id: number }[];
    const bill = await t.services.billing.bill(bills.find((b) => b.accountId === Number(stopped[0]!.id))!.id);
    expect(bill!.kind).toBe('base');
    const full = Math.floor((bill!.heatedArea * bill!.unitPriceFen + 50) / 100);
    expect(bill!.chargeFen).toBe(Math.floor((full * 3000 + 5000) / 10000));
    expect(bill!.lines.map((l) => l.label)).toEqual(['供热费', '报停减免']);
  });

  it('does not show another household’s bill', async () => {
    const r = await t.residentWith(DEMO.accounts[5]!);
    const other = (await t.services.billing.billsOfSeason(CURRENT)).find((b) => b.accountNo === DEMO.accounts[6]!.accountNo)!;
    const res = await t.call('GET', `/api/v1/bills/${other.id}`, { token: r.token });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('BILL_NOT_FOUND');
    const pay = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: other.id } });
    expect(pay.status).toBe(404);
    expect(pay.body.error.code).toBe('BILL_NOT_FOUND');
  });
});

describe('paying a bill with WeChat Pay', () => {
  it('pays end to end: one order per tap, signed parameters, one credit, a receipt and a message', async () => {
    const acc = DEMO.accounts[0]!;
    const r = await t.residentWith(acc);
    // the resident allowed the payment-success message when tapping 缴费
    await t.allowMessages(r.token, r.user, ['paymentSuccess']);
    const bill = await currentBill(r.token, acc.accountNo);
    expect(bill.status).toBe('unpaid');

    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ billId: bill.id, amountFen: bill.dueFen, status: 'pending' });
    expect(created.body.requestPayment).toMatchObject({ signType: 'RSA', package: expect.stringMatching(/^prepay_id=/) });
    expect(created.body.outTradeNo).toMatch(/^HB\d{22}$/);
    // a second tap while pending: the same order, not a second one
    const again = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    expect(again.body.id).toBe(created.body.id);
    expect(again.body.requestPayment.package).toBe(created.body.requestPayment.package);
    expect(sandbox().orders.get(created.body.outTradeNo)!.total).toBe(bill.dueFen);

    expect(await payOnDevice(r.user, created.body.requestPayment)).toBe('requestPayment:ok');
    const confirmed = await t.call('POST', `/api/v1/payments/${created.body.id}/confirm`, { token: r.token });
    expect(confirmed.body).toMatchObject({ status: 'paid', amountFen: bill.dueFen, transactionId: expect.stringMatching(/^\d{28}$/) });

    const after = await currentBill(r.token, acc.accountNo);
    expect(after).toMatchObject({ status: 'paid', dueFen: 0, paidFen: bill.dueFen });
    const { lines } = (await t.call('GET', `/api/v1/bills/${after.id}`, { token: r.token })).body;
    expect(lines.at(-1)).toMatchObject({ label: '已缴', detail: '微信支付', amountFen: -bill.dueFen });
    const ledger = await ledgerOf(created.body.outTradeNo);
    expect(ledger.map((l) => [l.kind, l.amountFen])).toEqual([['payment', bill.dueFen]]);
    const history = await t.call('GET', '/api/v1/payments', { token: r.token });
    expect(history.body.items[0]).toMatchObject({ outTradeNo: created.body.outTradeNo, status: 'paid', accountNo: acc.accountNo });

    // the payment-success message went out through the outbox
    await t.services.outbox.drain();
    const msgs = sandbox().subscribeMessages.filter((m) => m.templateId === t.services.notifications.templateId('paymentSuccess') && m.errcode === 0);
    expect(msgs.some((m) => m.data.character_string1!.value === created.body.outTradeNo)).toBe(true);

    // a paid bill cannot be paid again
    const twice = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toMatchObject({ code: 'BILL_ALREADY_PAID', message: '该账单已缴清，无需重复缴费' });
  });

  it('leaves the bill unpaid, without error, when the resident cancels', async () => {
    const acc = DEMO.accounts[1]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    expect(await payOnDevice(r.user, created.body.requestPayment, 'cancel')).toBe('requestPayment:fail cancel');
    const confirmed = await t.call('POST', `/api/v1/payments/${created.body.id}/confirm`, { token: r.token });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.status).toBe('pending');
    expect((await currentBill(r.token, acc.accountNo)).status).toBe('unpaid');
    expect(await ledgerOf(created.body.outTradeNo)).toEqual([]);
  });

  it('credits a notification replayed 10 times exactly once', async () => {
    const acc = DEMO.accounts[2]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    await payOnDevice(r.user, created.body.requestPayment);
    const event = [...sandbox().notificationEvents.values()].find((e) => e.outTradeNo === created.body.outTradeNo)!;
    expect(event.delivered).toBe(true);
    const attempts = await sandbox().redeliverNotification(event.id, 10);
    expect(attempts.map((a) => a.status)).toEqual(Array(10).fill(204));
    expect(await ledgerOf(created.body.outTradeNo)).toHaveLength(1);
    expect((await currentBill(r.token, acc.accountNo)).paidFen).toBe(bill.dueFen);
  });

  it('rejects forged, tampered, stale and unknown-serial notifications and credits nothing', async () => {
    const acc = DEMO.accounts[3]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    const plaintext = transactionPlaintext(created.body);
    const good = sandbox().buildNotification({ plaintext, eventType: 'TRANSACTION.SUCCESS' });

    const tamperedBody = { ...good, body: good.body.replace('"summary":"支付成功"', '"summary":"支付成功 "') };
    const badSignature = { ...good, headers: { ...good.headers, 'wechatpay-signature': Buffer.from('x'.repeat(256)).toString('base64') } };
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const otherKey = sandbox().buildNotification({ plaintext, signingKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
    const wrongSerial = sandbox().buildNotification({ plaintext, serial: '5157F09EFDC096DE15EBE81A47057A7232F1B8E1' });
    const stale = sandbox().buildNotification({ plaintext, timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const probe = { ...good, headers: { ...good.headers, 'wechatpay-signature': 'WECHATPAY/SIGNTEST/' + good.headers['wechatpay-signature'] } };
    for (const forged of [tamperedBody, badSignature, otherKey, wrongSerial, stale, probe]) {
      const res = await notify(forged);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ code: 'FAIL', message: '签名验证失败' });
    }
    // a body past BODY_LIMIT_KB is refused unread, signed or not
    const padded = { ...good, body: good.body.replace('{', `{"pad":"${'x'.repeat(t.config.BODY_LIMIT_KB * 1024)}",`) };
    const huge = await notify(padded);
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await ledgerOf(created.body.outTradeNo)).toEqual([]);
    expect((await currentBill(r.token, acc.accountNo)).status).toBe('unpaid');
    // the genuine one is accepted (the order really is unpaid at WeChat, but the signature is good)
    expect((await notify(good)).status).toBe(204);
    expect(await ledgerOf(created.body.outTradeNo)).toHaveLength(1);
  });

  it('does not credit a notification whose amount differs from the order, and flags it for finance', async () => {
    const acc = DEMO.accounts[4]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    const n = sandbox().buildNotification({
      plaintext: transactionPlaintext(created.body, { amount: { total: 1, payer_total: 1, currency: 'CNY', payer_currency: 'CNY' } }),
    });
    expect((await notify(n)).status).toBe(204);
    expect((await notify(n)).status).toBe(204);
    expect(await ledgerOf(created.body.outTradeNo)).toEqual([]);
    expect((await currentBill(r.token, acc.accountNo)).status).toBe('unpaid');
    const anomalies = await t.call('GET', '/api/v1/staff/payment-anomalies', { token: finance });
    const mine = anomalies.body.items.filter((a: any) => a.outTradeNo === created.body.outTradeNo);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'amount_mismatch', detail: { orderFen: bill.dueFen, wechatFen: 1 }, resolved: false });
  });

  it('credits a payment whose notification was lost when the sweeper queries it, and closes expired orders', async () => {
    const lost = await t.residentWith(DEMO.accounts[7]!);
    const lostBill = await currentBill(lost.token, DEMO.accounts[7]!.accountNo);
    const lostOrder = (await t.call('POST', '/api/v1/payments', { token: lost.token, body: { billId: lostBill.id } })).body;
    sandbox().markOrderPaid(lostOrder.outTradeNo); // paid at WeChat, never notified

    const idle = await t.residentWith(DEMO.accounts[8]!);
    const idleBill = await currentBill(idle.token, DEMO.accounts[8]!.accountNo);
    const idleOrder = (await t.call('POST', '/api/v1/payments', { token: idle.token, body: { billId: idleBill.id } })).body;

    // too early: nothing is swept
    expect(await t.services.payments.sweep()).toEqual({ credited: 0, closed: 0, refunds: 0 });
    const stats = await t.services.payments.sweep(new Date(Date.now() + 31 * 60_000));
    expect(stats.credited).toBeGreaterThanOrEqual(1);
    expect(stats.closed).toBeGreaterThanOrEqual(1);
    const paid = await t.ds.getRepository(PaymentOrder).findOneByOrFail({ outTradeNo: lostOrder.outTradeNo });
    expect(paid).toMatchObject({ status: 'paid', creditedBy: 'sweep' });
    expect(await ledgerOf(lostOrder.outTradeNo)).toHaveLength(1);
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ outTradeNo: idleOrder.outTradeNo })).status).toBe('closed');
    expect(sandbox().orders.get(idleOrder.outTradeNo)!.tradeState).toBe('CLOSED');
    // the resident can start again with a new order
    const fresh = await t.call('POST', '/api/v1/payments', { token: idle.token, body: { billId: idleBill.id } });
    expect(fresh.status).toBe(201);
    expect(fresh.body.outTradeNo).not.toBe(idleOrder.outTradeNo);
  });

  it('answers a failure when the database cannot record a notification, and succeeds on WeChat’s retry', async () => {
    const acc = DEMO.accounts[9]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
    await t.ds.query('ALTER TABLE ledger_entry RENAME TO ledger_entry_away');
    try {
      await payOnDevice(r.user, created.body.requestPayment);
    } finally {
      await t.ds.query('ALTER TABLE ledger_entry_away RENAME TO ledger_entry');
    }
    const event = [...sandbox().notificationEvents.values()].find((e) => e.outTradeNo === created.body.outTradeNo)!;
    const firstAttempt = sandbox().notifications.find((a) => a.eventId === event.id)!;
    expect(firstAttempt.status).toBe(500);
    // nothing half-written: the order is still pending
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ outTradeNo: created.body.outTradeNo })).status).toBe('pending');
    const [retry] = await sandbox().redeliverNotification(event.id);
    expect(retry!.status).toBe(204);
    expect(await ledgerOf(created.body.outTradeNo)).toHaveLength(1);
    expect((await currentBill(r.token, acc.accountNo)).status).toBe('paid');
  });

  it('pays a bill once when two phones pay it, and refunds the second payment automatically', async () => {
    const acc = DEMO.accounts[10]!;
    const a = await t.residentWith(acc);
    const b = await t.residentWith(acc);
    await t.allowMessages(b.token, b.user, ['refund']);
    const bill = await currentBill(a.token, acc.accountNo);
    const oa = (await t.call('POST', '/api/v1/payments', { token: a.token, body: { billId: bill.id } })).body;
    const ob = (await t.call('POST', '/api/v1/payments', { token: b.token, body: { billId: bill.id } })).body;
    expect(oa.id).not.toBe(ob.id);
    await payOnDevice(a.user, oa.requestPayment);
    await payOnDevice(b.user, ob.requestPayment);

    const second = await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: ob.id });
    expect(second).toMatchObject({ status: 'paid', duplicate: true });
    const billRow = await t.services.billing.bill(bill.id);
    expect(billRow).toMatchObject({ status: 'paid', paidOrderId: oa.id, paidFen: bill.dueFen });

    // the refund is submitted by the outbox and completed by WeChat
    await t.services.outbox.drain();
    const outRefundNo = `${ob.outTradeNo}R1`;
    expect(sandbox().refunds.get(outRefundNo)).toBeDefined();
    await sandbox().completeRefund(outRefundNo);
    await sandbox().settleNotifications();
    expect((await ledgerOf(ob.outTradeNo)).map((l) => l.amountFen)).toEqual([bill.dueFen, -bill.dueFen]);
    const view = await t.call('GET', `/api/v1/payments/${ob.id}`, { token: b.token });
    expect(view.body).toMatchObject({ duplicate: true, refundedFen: bill.dueFen, refunds: [{ kind: 'duplicate', status: 'success', amountFen: bill.dueFen }] });
    // and the second payer is told
    await t.services.outbox.drain();
    expect(
      sandbox().subscribeMessages.some(
        (m) => m.templateId === t.services.notifications.templateId('refund') && m.errcode === 0 && m.data.character_string1!.value === ob.outTradeNo,
      ),
    ).toBe(true);
  });
});

describe('a burst of notifications', () => {
  it('credits notifications arriving together exactly once each, repeats and a same-bill pair included', async () => {
    const households = demoHouseholds()
      .filter((h) => h.status === 'active' && h.use === 'residential')
      .slice(40, 45);
    const orders: { outTradeNo: string; amountFen: number; billId: number }[] = [];
    for (const h of households) {
      const r = await t.residentWith(h);
      const bill = await currentBill(r.token, h.accountNo);
      orders.push((await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } })).body);
    }
    // a second phone pays the first household's bill too
    const second = await t.residentWith(households[0]!);
    orders.push((await t.call('POST', '/api/v1/payments', { token: second.token, body: { billId: orders[0]!.billId } })).body);
    const notifications = orders.map((o) => sandbox().buildNotification({ plaintext: transactionPlaintext(o) }));
    // every notification twice, all at once
    const answers = await Promise.all([...notifications, ...notifications].map((n) => notify(n)));
    expect(answers.map((a) => a.status)).toEqual(Array(12).fill(204));
    for (const o of orders) expect(await ledgerOf(o.outTradeNo)).toHaveLength(1);
    const rows = await t.ds.getRepository(PaymentOrder).find({ where: orders.map((o) => ({ outTradeNo: o.outTradeNo })) });
    expect(rows.every((r) => r.status === 'paid')).toBe(true);
    expect(rows.filter((r) => r.duplicate)).toHaveLength(1);
    const bill = await t.services.billing.bill(orders[0]!.billId);
    expect(bill).toMatchObject({ status: 'paid', paidFen: orders[0]!.amountFen });
    // the duplicate is queued for an automatic refund (these payments were made up, so WeChat refuses it here)
    const dup = rows.find((r) => r.duplicate)!;
    expect(await t.ds.getRepository(Refund).findOneBy({ orderId: dup.id })).toMatchObject({ kind: 'duplicate', amountFen: dup.amountFen });
  });
});

describe('a burst bigger than a batch', () => {
  // MariaDB only: SQLite runs one transaction at a time (withTx), so batches never commit side by side
  it.runIf(usingMariaDb())('credits 200 notifications at once while another batch waits on a lock, exactly once each', async () => {
    // a season of its own: 2040-2041's bills, which no other test here pays
    await t.services.billing.createSeason(demoSeason(2040));
    await t.services.billing.issueBills('2040-2041');
    const season = await t.services.billing.seasonByCode('2040-2041');
    const bills = (
      (await t.ds.query("SELECT id, accountId, chargeFen FROM bill WHERE seasonId = ? AND status = 'unpaid' ORDER BY id LIMIT 100", [season.id])) as any[]
    ).map((b) => ({ id: Number(b.id), accountId: Number(b.accountId), chargeFen: Number(b.chargeFen) }));
    expect(bills).toHaveLength(100);
    const payer = await t.residentWith(demoHouseholds().filter((h) => h.status === 'active' && h.use === 'residential')[60]!);
    const [resident] = await t.ds.query('SELECT residentId FROM binding WHERE accountId = ? AND unboundAt IS NULL', [payer.accountId]);
    const stamp = Date.now();
    const orders = bills.map((b, i) => ({
      outTradeNo: `BURST${stamp}${String(i).padStart(3, '0')}`,
      billId: b.id,
      accountId: b.accountId,
      residentId: Number(resident.residentId),
      openid: 'o-burst',
      description: '2040—2041采暖季供热费',
      amountFen: b.chargeFen,
      status: 'pending' as const,
      expiresAt: new Date(Date.now() + 3600_000),
    }));
    // the first bill paid on a second phone too
    orders.push({ ...orders[0]!, outTradeNo: `BURST${stamp}dup` });
    await t.ds.getRepository(PaymentOrder).insert(orders);
    // a season's worth of earlier orders, closed: a batch is a small part of the table, as in
    // production (on a table it were most of, MariaDB rightly scans the table, locking every row)
    const earlier = Array.from({ length: 40 }, (_, k) =>
      bills.map((b, i) => ({ ...orders[i]!, id: undefined, outTradeNo: `EARLIER${stamp}${k}x${i}`, status: 'closed' as const })),
    );
    for (const rows of earlier) await t.ds.getRepository(PaymentOrder).insert(rows);
    await t.ds.query('ANALYZE TABLE payment_order');
    const notifications = orders.map((o) => sandbox().buildNotification({ plaintext: transactionPlaintext(o) }));
    // credit batches so far, as /metrics shows them: alone, or started beside a committing one
    const batches = async () => {
      const text = await registry.getSingleMetricAsString('hb_wxpay_credit_batch_size');
      const count = (alongside: string) =>
        Number(new RegExp(`^hb_wxpay_credit_batch_size_count\\{alongside="${alongside}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      return { alone: count('no'), alongside: count('yes') };
    };
    const before = await batches();

    // another transaction holds the first order (a refund being recorded, say): its notification's batch waits
    const other = await mysql.createConnection(mysqlUrl(t.db.url!));
    let first: Promise<{ status: number }> | undefined;
    try {
      await other.query('START TRANSACTION');
      await other.query('SELECT id FROM payment_order WHERE outTradeNo = ? FOR UPDATE', [orders[0]!.outTradeNo]);
      first = notify(notifications[0]!);
      await expect.poll(async () => (await batches()).alone - before.alone).toBe(1);

      // every other notification twice (WeChat repeats what it has not seen answered), all at once:
      // they are credited beside the waiting batch, not after it
      const rest = notifications.slice(1);
      const started = Date.now();
      const answers = await Promise.all([...rest, ...rest].map((n) => notify(n)));
      // not after the waiting batch's lock wait (DB_LOCK_WAIT_SECONDS) ran out
      expect(Date.now() - started).toBeLessThan(t.config.DB_LOCK_WAIT_SECONDS * 1000);
      expect(answers.map((a) => a.status)).toEqual(Array(200).fill(204));
      expect((await batches()).alongside - before.alongside).toBeGreaterThan(0);
      const [{ n }] = await t.ds.query("SELECT COUNT(*) AS n FROM payment_order WHERE status = 'paid' AND outTradeNo LIKE ?", [`BURST${stamp}%`]);
      expect(Number(n)).toBe(100);
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    expect((await first).status).toBe(204);

    const paid = await t.ds.getRepository(PaymentOrder).find({ where: orders.map((o) => ({ outTradeNo: o.outTradeNo })) });
    expect(paid.filter((o) => o.status === 'paid')).toHaveLength(101);
    // one ledger entry per order, never two; the first bill's later payment is a duplicate, refunded
    const [{ n }] = await t.ds.query('SELECT COUNT(*) AS n FROM ledger_entry WHERE outTradeNo LIKE ?', [`BURST${stamp}%`]);
    expect(Number(n)).toBe(101);
    const dup = paid.filter((o) => o.duplicate);
    expect(dup.map((o) => o.billId)).toEqual([bills[0]!.id]);
    expect(await t.ds.getRepository(Refund).findOneBy({ orderId: dup[0]!.id })).toMatchObject({ kind: 'duplicate', amountFen: bills[0]!.chargeFen });
    const settled = await Promise.all(bills.map((b) => t.services.billing.bill(b.id)));
    expect(settled.every((b, i) => b!.status === 'paid' && b!.paidFen === bills[i]!.chargeFen)).toBe(true);
  });
});

describe('refunds by finance', () => {
  it('refunds part, then the rest, of a payment after a ruling; never more than was paid', async () => {
    const acc = DEMO.accounts[11]!;
    const r = await t.residentWith(acc);
    const bill = await currentBill(r.token, acc.accountNo);
    const order = (await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } })).body;
    await payOnDevice(r.user, order.requestPayment);
    const url = `/api/v1/staff/payments/${order.id}/refunds`;

    const missing = await t.call('POST', url, { token: finance, body: { amountFen: 0, reason: '' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['amountFen', 'reason', 'rulingRef']);
    const agent = await t.loginStaff('agent1');
    expect((await t.call('POST', url, { token: agent, body: { amountFen: 100, reason: '室温不达标', rulingRef: 'CW-1' } })).status).toBe(403);
    expect((await t.call('POST', url, { token: r.token, body: { amountFen: 100, reason: '室温不达标', rulingRef: 'CW-1' } })).status).toBe(403);

    // a "ruling" refund must cite a recorded three-party ruling of this household, not any number
    const typed = await t.call('POST', url, { token: finance, body: { amountFen: 1234, reason: '室温14-16℃ 5天，按裁定退费', rulingRef: 'CW-2026-0113' } });
    expect(typed.status).toBe(400);
    expect(typed.body.error.code).toBe('RULING_NOT_RECORDED');
    const part = await t.call('POST', url, { token: finance, body: { amountFen: 1234, reason: '营业厅多收，退回差额', kind: 'other' } });
    expect(part.status).toBe(201);
    expect(part.body).toMatchObject({ amountFen: 1234, kind: 'other', status: 'processing', rulingRef: null });
    const tooMuch = await t.call('POST', url, { token: finance, body: { amountFen: bill.dueFen, reason: '重复申请', kind: 'other' } });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error).toMatchObject({ code: 'REFUND_EXCEEDS_PAID', details: { refundableFen: bill.dueFen - 1234 } });
    const rest = await t.call('POST', url, { token: finance, body: { amountFen: bill.dueFen - 1234, reason: '停热退费', kind: 'other' } });
    expect(rest.status).toBe(201);

    await sandbox().completeRefund(part.body.outRefundNo);
    await sandbox().completeRefund(rest.body.outRefundNo);
    await sandbox().settleNotifications();
    // the two refund notifications arrive together: either may be recorded first
    expect((await ledgerOf(order.outTradeNo)).map((l) => l.amountFen).sort((a, b) => b - a)).toEqual([bill.dueFen, -1234, -(bill.dueFen - 1234)]);
    const history = await t.call('GET', '/api/v1/payments', { token: r.token });
    const mine = history.body.items.find((o: any) => o.id === order.id);
    expect(mine.refundedFen).toBe(bill.dueFen);
    expect(mine.refunds.map((x: any) => [x.status, x.amountFen])).toEqual([
      ['success', 1234],
      ['success', bill.dueFen - 1234],
    ]);
    // a refund notification told twice changes nothing more
    const ev = [...sandbox().notificationEvents.values()].find((e) => e.outRefundNo === part.body.outRefundNo)!;
    await sandbox().redeliverNotification(ev.id, 3);
    expect(await ledgerOf(order.outTradeNo)).toHaveLength(3);
  });

  it('refuses a refund of an unpaid order', async () => {
    const pending = await t.ds.getRepository(PaymentOrder).findOneByOrFail({ status: 'pending' } as any);
    const res = await t.call('POST', `/api/v1/staff/payments/${pending.id}/refunds`, {
      token: finance,
      body: { amountFen: 1, reason: '测试退款', kind: 'other' },
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('REFUND_NOT_ALLOWED');
    expect(await t.ds.getRepository(PaymentAnomaly).count()).toBeGreaterThanOrEqual(1);
  });
});
