/**
 * Daily reconciliation end to end: the real BFF, the real Pay client (hash-checked downloads),
 * the WeChat Pay simulator's trade bills in WeChat's format, a real database (SQLite / MariaDB).
 * The tests run in order on one day (today, served at once by the simulator) whose ledger grows.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chinaDate } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { createPayClientFromConfig } from '../../host';
import { DEMO } from '../../demo/seed';
import { buildTradeBill } from '../../sandbox/bills';
import { PayApiError, type PayClient } from '../../wechat/pay';
import { LedgerEntry, PaymentOrder, Refund } from '../payments/entities';
import { ReconDay, ReconDiscrepancy } from './entities';
import { ReconciliationService } from './service';
import { parseDecimal, readTradeBill, splitRow } from './csv';
import { keepOneChinaDay } from '../../test-support/clock';
import { statementCounts, usingMariaDb } from '../../test-support/db';
import { createDataSource } from '../../db';
import { billSummary, paymentRow, TRADE_BILL_HEADER } from '../../test-support/trade-bill';

// this file's story happens on one China calendar day
keepOneChinaDay();

/** last season and this season of the demo, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];

let t: TestApp;
let finance: string;
const billDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-bills-'));
const DAY_MS = 24 * 3600_000;
const today = () => chinaDate(new Date());
const daysAgo = (n: number) => chinaDate(new Date(Date.now() - n * DAY_MS));

beforeAll(async () => {
  process.env.RECON_BILL_DIR = billDir;
  t = await startTestApp({ seedDemo: true, instantBills: true });
  finance = await t.loginStaff('finance1');
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(billDir, { recursive: true, force: true });
});

const sandbox = () => t.sandbox!.state;
const fee = (fen: number) => Math.round(fen * 0.006);

/** A resident's order for the current season's bill of `account`. */
async function orderFor(account: { accountNo: string; ownerName: string }) {
  const r = await t.residentWith(account);
  const bills = await t.call('GET', '/api/v1/bills', { token: r.token });
  const bill = bills.body.items.find((b: any) => b.accountNo === account.accountNo && b.season === CURRENT);
  const created = await t.call('POST', '/api/v1/payments', { token: r.token, body: { billId: bill.id } });
  expect(created.status).toBe(201);
  return { ...r, order: created.body };
}

async function paidOrder(account: { accountNo: string; ownerName: string }) {
  const o = await orderFor(account);
  const res = await t.call('POST', '/sandbox/device/pay', { body: { ...o.order.requestPayment, user: o.user, action: 'confirm' } });
  expect(res.body.errMsg).toBe('requestPayment:ok');
  await sandbox().settleNotifications();
  return o;
}

const run = (date: string, token = finance) => t.call('POST', '/api/v1/staff/reconciliation/runs', { token, body: { date } });
const dayOf = (date: string, token = finance) => t.call('GET', `/api/v1/staff/reconciliation/days/${date}`, { token });

/** what a re-run must not change */
async function snapshot(date: string) {
  const rows = await t.ds.getRepository(ReconDiscrepancy).find({ where: { billDate: date }, order: { key: 'ASC' } });
  const day = await t.ds.getRepository(ReconDay).findOneByOrFail({ billDate: date });
  const ledger = await t.ds.getRepository(LedgerEntry).count();
  return {
    rows: rows.map(({ updatedAt, seenRun, ...r }) => r),
    day: {
      status: day.status,
      wechat: day.wechat,
      summary: day.summary,
      ledger: day.ledger,
      classes: day.classes,
      healed: day.healed,
      billHash: day.billHash,
      closedAt: day.closedAt,
    },
    ledger,
  };
}

describe('the trade bill reader', () => {
  it('streams WeChat’s format: BOM, backticks, refunds as their own rows, exact decimals, the summary', async () => {
    expect(parseDecimal('12.34', 2)).toBe(1234);
    expect(parseDecimal('-0.07000', 5)).toBe(-7000);
    expect(parseDecimal('0.1', 2)).toBe(10);
    expect(() => parseDecimal('1.2.3', 2)).toThrow(/not a number/);
    expect(splitRow('`a,`b,c,`d')).toEqual(['a', 'b,c', 'd']);
    const csv =
      '\uFEFF' +
      TRADE_BILL_HEADER +
      '\r\n' +
      '`2026-11-20 09:00:01,`wx1,`190,`0,`,`4200001,`HB1,`o1,`JSAPI,`SUCCESS,`OTHERS,`CNY,`100.00,`0.00,`0,`0,`0.00,`0.00,`,`,`供热费, 2026,`,`0.60000,`0.60%,`100.00,`0.00,`\r\n' +
      '`2026-11-20 09:00:01,`wx1,`190,`0,`,`4200001,`HB1,`o1,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`5030001,`HB1R1,`10.00,`0.00,`ORIGINAL,`SUCCESS,`供热费, 2026,`,`-0.06000,`0.60%,`0.00,`10.00,`\r\n' +
      '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n' +
      '`2,`100.00,`10.00,`0.00,`0.54000,`100.00,`10.00\r\n';
    const events = [];
    // tiny chunks: lines split across chunks must still come out whole
    const chunks = Buffer.from(csv, 'utf8')
      .toString('binary')
      .match(/[\s\S]{1,7}/g)!
      .map((c) => Buffer.from(c, 'binary'));
    for await (const ev of readTradeBill(Readable.from(chunks))) events.push(ev);
    expect(events).toEqual([
      {
        type: 'row',
        row: expect.objectContaining({
          line: 2,
          kind: 'payment',
          outTradeNo: 'HB1',
          transactionId: '4200001',
          settleFen: 10000,
          orderFen: 10000,
          feeMicro: 60000,
        }),
      },
      {
        type: 'row',
        row: expect.objectContaining({
          line: 3,
          kind: 'refund',
          outRefundNo: 'HB1R1',
          refundId: '5030001',
          refundFen: 1000,
          refundStatus: 'SUCCESS',
          feeMicro: -6000,
        }),
      },
      { type: 'summary', summary: { rowCount: 2, settleFen: 10000, refundFen: 1000, feeMicro: 54000, orderFen: 10000 } },
    ]);
  });
});

describe('daily reconciliation', () => {
  const paid: { order: any; user: string; token: string }[] = [];

  it('a day without trades: WeChat has no bill, the ledger nothing; balanced with zero totals', async () => {
    const res = await run(daysAgo(1));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      billDate: daysAgo(1),
      status: 'balanced',
      statusLabel: '已平',
      closed: true,
      emptyBill: true,
      billHash: null,
      summaryMatches: null,
      wechat: { rowCount: 0, paymentFen: 0, refundFen: 0, feeFen: 0, netFen: 0 },
      ledger: { rowCount: 0, paymentFen: 0 },
      discrepancies: [],
    });
  });

  it('a normal day: payments, a partial refund and fees all match, and the totals equal the bill’s summary', async () => {
    for (const acc of DEMO.accounts.slice(0, 3)) paid.push(await paidOrder(acc));
    const first = paid[0]!.order;
    const refund = await t.call('POST', `/api/v1/staff/payments/${first.id}/refunds`, {
      token: finance,
      body: { amountFen: 1234, reason: '营业厅多收，退回差额', kind: 'other' },
    });
    expect(refund.status).toBe(201);
    await sandbox().completeRefund(refund.body.outRefundNo);
    await sandbox().settleNotifications();

    const res = await run(today());
    expect(res.status).toBe(200);
    const amounts = paid.map((p) => p.order.amountFen as number);
    const payFen = amounts.reduce((a, b) => a + b, 0);
    const feeFen = amounts.reduce((a, b) => a + fee(b), 0) - fee(1234);
    expect(res.body).toMatchObject({
      status: 'balanced',
      closed: true,
      summaryMatches: true,
      emptyBill: false,
      wechat: { rowCount: 4, paymentCount: 3, paymentFen: payFen, refundCount: 1, refundFen: 1234, feeFen, netFen: payFen - 1234 - feeFen },
      summary: { rowCount: 4, paymentFen: payFen, refundFen: 1234, feeFen },
      ledger: { rowCount: 4, paymentCount: 3, paymentFen: payFen, refundCount: 1, refundFen: 1234, feeFen: 0, netFen: payFen - 1234 },
      classes: { matched: 4, healed: 0, surplus: 0, shortage: 0, amount_mismatch: 0, refund_mismatch: 0, duplicate: 0, totals_mismatch: 0 },
      discrepancies: [],
      runs: 1,
    });
    // the raw bill is kept as it came, under its SHA1
    const file = (await t.ds.getRepository(ReconDay).findOneByOrFail({ billDate: today() })).billFile!;
    expect(file.startsWith(billDir)).toBe(true);
    expect(crypto.createHash('sha1').update(fs.readFileSync(file)).digest('hex')).toBe(res.body.billHash);
    const dl = await t.call('GET', `/api/v1/staff/reconciliation/days/${today()}/bill`, { token: finance });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-type')).toMatch(/text\/csv/);
    expect(String(dl.body)).toContain(first.outTradeNo);
  });

  it('a lost notification: the 长款 is queried, credited once through the crediting path, and reported as healed', async () => {
    const lost = await orderFor(DEMO.accounts[3]!);
    sandbox().markOrderPaid(lost.order.outTradeNo); // paid at WeChat, never notified
    const res = await run(today());
    expect(res.body.status).toBe('balanced');
    expect(res.body.classes).toMatchObject({ healed: 1, surplus: 0 });
    expect(res.body.healed).toEqual([
      { ref: `pay:${lost.order.outTradeNo}`, outTradeNo: lost.order.outTradeNo, amountFen: lost.order.amountFen, result: 'credited' },
    ]);
    const order = await t.ds.getRepository(PaymentOrder).findOneByOrFail({ outTradeNo: lost.order.outTradeNo });
    expect(order).toMatchObject({ status: 'paid', creditedBy: 'recon' });
    expect(await t.ds.getRepository(LedgerEntry).countBy({ outTradeNo: lost.order.outTradeNo })).toBe(1);
    const bills = await t.call('GET', '/api/v1/bills', { token: lost.token });
    expect(bills.body.items.find((b: any) => b.accountNo === DEMO.accounts[3]!.accountNo && b.season === CURRENT).status).toBe('paid');
    // the next run sees it matched and still reports the healing
    const again = await run(today());
    expect(again.body.classes).toMatchObject({ matched: 5, healed: 0 });
    expect(again.body.healed).toHaveLength(1);
  });

  it('a refund whose notification failed is queried and applied, and reported as healed', async () => {
    const second = paid[1]!.order;
    const refund = await t.call('POST', `/api/v1/staff/payments/${second.id}/refunds`, {
      token: finance,
      body: { amountFen: 500, reason: '停热退费', kind: 'other' },
    });
    await t.ds.query('ALTER TABLE ledger_entry RENAME TO ledger_entry_away');
    try {
      await sandbox().completeRefund(refund.body.outRefundNo);
      await sandbox().settleNotifications(); // answered 500: WeChat retries much later
    } finally {
      await t.ds.query('ALTER TABLE ledger_entry_away RENAME TO ledger_entry');
    }
    expect(await t.ds.getRepository(LedgerEntry).countBy({ ref: `refund:${refund.body.outRefundNo}` })).toBe(0);
    const res = await run(today());
    expect(res.body.status).toBe('balanced');
    expect(res.body.healed.at(-1)).toMatchObject({ ref: `refund:${refund.body.outRefundNo}`, amountFen: -500, result: 'refund_success' });
    expect(await t.ds.getRepository(LedgerEntry).countBy({ ref: `refund:${refund.body.outRefundNo}` })).toBe(1);
  });

  it('a ledger entry WeChat does not know is a 短款 for a human, with the ledger’s side', async () => {
    const some = paid[2]!.order;
    await t.ds.getRepository(LedgerEntry).insert({
      ref: 'pay:HBGHOST0000000000000001',
      tradeRef: 'pay:HBGHOST0000000000000001',
      kind: 'payment',
      amountFen: 8800,
      orderId: some.id,
      refundId: null,
      billId: some.billId,
      accountId: some.accountId ?? 1,
      outTradeNo: 'HBGHOST0000000000000001',
      transactionId: null,
      at: new Date(),
    });
    const res = await run(today());
    expect(res.body).toMatchObject({ status: 'differences', statusLabel: '有差异', closed: false, openDiscrepancies: 1 });
    expect(res.body.discrepancies).toEqual([
      expect.objectContaining({
        key: 'pay:HBGHOST0000000000000001',
        kind: 'shortage',
        kindLabel: '短款',
        status: 'open',
        wechat: null,
        ledger: expect.objectContaining({ amountFen: 8800, kind: 'payment' }),
        diffFen: -8800,
      }),
    ]);
  });

  it('amount mismatches: WeChat paid another amount than ordered (not credited), and a ledger figure that differs from the bill', async () => {
    const odd = await orderFor(DEMO.accounts[4]!);
    sandbox().orders.get(odd.order.outTradeNo)!.total += 100; // WeChat took 1.00 more
    sandbox().markOrderPaid(odd.order.outTradeNo);
    // a refund entry altered in the ledger
    const refundEntry = await t.ds.getRepository(LedgerEntry).findOneByOrFail({ outTradeNo: paid[0]!.order.outTradeNo, kind: 'refund' });
    await t.ds.getRepository(LedgerEntry).update(refundEntry.id, { amountFen: -1200 });

    const res = await run(today());
    const byKey = Object.fromEntries(res.body.discrepancies.map((d: any) => [d.key, d]));
    expect(byKey[`pay:${odd.order.outTradeNo}`]).toMatchObject({
      kind: 'amount_mismatch',
      diffFen: 100,
      wechat: { amountFen: odd.order.amountFen + 100 },
      ledger: { order: { status: 'pending', amountFen: odd.order.amountFen }, credit: 'flagged' },
    });
    expect(byKey[refundEntry.ref]).toMatchObject({ kind: 'refund_mismatch', wechat: { amountFen: 1234 }, ledger: { amountFen: -1200 }, diffFen: -34 });
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ outTradeNo: odd.order.outTradeNo })).status).toBe('pending');
    expect(res.body.classes).toMatchObject({ shortage: 1, amount_mismatch: 1, refund_mismatch: 1 });
    expect(res.body.openDiscrepancies).toBe(3);
  });

  it('duplicates and a truncated bill are found by the streaming reader, each difference written once', async () => {
    // another (past) date, so that today's story is untouched; its rows are removed at the end
    const date = daysAgo(40);
    const csv = buildTradeBill(today(), 'ALL', sandbox().orders.values(), sandbox().refunds.values())!;
    const lines = csv.split('\r\n');
    const dupLine = lines[1]!;
    const withDup = [...lines.slice(0, 2), dupLine, dupLine, ...lines.slice(2)].join('\r\n');
    const rowsOf = async () => Object.fromEntries((await t.ds.getRepository(ReconDiscrepancy).find({ where: { billDate: date } })).map((d) => [d.key, d]));
    const out = await t.services.reconciliation.reconcile(date, Readable.from([withDup]));
    const dupNo = splitRow(dupLine)[6]!;
    let rows = await rowsOf();
    // today's bill under another date: today's differences too, and the repeated row once
    expect(
      Object.keys(rows)
        .filter((k) => k.startsWith('dup:') || k === 'totals')
        .sort(),
    ).toEqual([`dup:pay:${dupNo}`, 'totals']);
    expect(rows[`dup:pay:${dupNo}`]).toMatchObject({ kind: 'duplicate', outTradeNo: dupNo, status: 'open' });
    expect(rows.totals).toMatchObject({ kind: 'totals_mismatch' }); // two rows more than the summary says
    expect(out).toMatchObject({ discrepancies: Object.keys(rows).length, classes: { duplicate: 1, totals_mismatch: 1 } });
    const truncated = lines.slice(0, 3).join('\r\n') + '\r\n';
    const cut = await t.services.reconciliation.reconcile(date, Readable.from([truncated]));
    expect(cut.summaryMatches).toBe(false);
    rows = await rowsOf();
    expect(rows.totals!.ledger).toMatchObject({ summary: null }); // refreshed while open
    expect(rows[`dup:pay:${dupNo}`]).toMatchObject({ status: 'resolved', resolution: 'cleared_on_rerun' });
    await t.ds.getRepository(ReconDiscrepancy).delete({ billDate: date });
    await t.ds.getRepository(ReconDay).delete({ billDate: date });
  });

  it('differences carry the app’s clock as their times, not the database server’s', async () => {
    const date = daysAgo(41);
    const csv = buildTradeBill(today(), 'ALL', sandbox().orders.values(), sandbox().refunds.values())!;
    const at = new Date('2031-05-06T07:08:09.123Z');
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(at);
    try {
      await t.services.reconciliation.reconcile(date, Readable.from([csv]));
    } finally {
      vi.useRealTimers();
    }
    const rows = await t.ds.getRepository(ReconDiscrepancy).find({ where: { billDate: date } });
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect([r.createdAt.toISOString(), r.updatedAt.toISOString()]).toEqual([at.toISOString(), at.toISOString()]);
    await t.ds.getRepository(ReconDiscrepancy).delete({ billDate: date });
    await t.ds.getRepository(ReconDay).delete({ billDate: date });
  });

  it('re-running a day changes nothing', async () => {
    const before = await snapshot(today());
    const res = await run(today());
    expect(res.body.runs).toBeGreaterThan(1);
    expect(await snapshot(today())).toEqual(before);
  });

  it('finance resolves each difference with a type and a note; the day closes when the last is resolved', async () => {
    const agent = await t.loginStaff('agent1');
    const admin = await t.loginStaff('admin');
    let detail = (await dayOf(today())).body;
    const open = detail.discrepancies.filter((d: any) => d.status === 'open');
    expect(open).toHaveLength(3);
    // a difference is named by its day and its key (`pay:HB…`, encoded in the path)
    const url = (d: { billDate: string; key: string }) => `/api/v1/staff/reconciliation/days/${d.billDate}/discrepancies/${encodeURIComponent(d.key)}/resolve`;

    const bad = await t.call('POST', url(open[0]), { token: finance, body: { resolution: 'cleared_on_rerun', note: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['note', 'resolution']);
    expect((await t.call('POST', url(open[0]), { token: agent, body: { resolution: 'no_action', note: '无需处理' } })).status).toBe(403);
    expect((await t.call('POST', url(open[0]), { token: admin, body: { resolution: 'no_action', note: '无需处理' } })).status).toBe(403);
    for (const other of [
      { ...open[0], key: 'pay:HB-no-such-trade' },
      { ...open[0], billDate: '2026-01-01' },
    ])
      expect((await t.call('POST', url(other), { token: finance, body: { resolution: 'no_action', note: '无需处理' } })).body.error.code).toBe(
        'DISCREPANCY_NOT_FOUND',
      );
    for (const other of [
      { ...open[0], billDate: '2026-13-01' },
      { ...open[0], key: 'k'.repeat(101) },
    ]) {
      const res = await t.call('POST', url(other), { token: finance, body: { resolution: 'no_action', note: '无需处理' } });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    }

    for (const [i, d] of open.entries()) {
      const res = await t.call('POST', url(d), {
        token: finance,
        body: { resolution: i === 0 ? 'ledger_corrected' : 'wechat_corrected', note: `已核实处理 ${d.key}` },
      });
      expect(res.status).toBe(200);
      expect(res.body.discrepancy).toMatchObject({
        status: 'resolved',
        resolvedBy: expect.any(String),
        resolvedAt: expect.any(String),
        note: `已核实处理 ${d.key}`,
      });
      expect(res.body.day.status).toBe(i === open.length - 1 ? 'balanced' : 'differences');
    }
    const twice = await t.call('POST', url(open[0]), { token: finance, body: { resolution: 'no_action', note: '再次处理' } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.code).toBe('DISCREPANCY_ALREADY_RESOLVED');

    detail = (await dayOf(today(), admin)).body;
    expect(detail).toMatchObject({ status: 'balanced', closed: true, openDiscrepancies: 0, totalDiscrepancies: 3, closedAt: expect.any(String) });
    // nothing deleted; a re-run neither reopens nor adds anything
    const before = await snapshot(today());
    expect((await run(today())).body.status).toBe('balanced');
    expect(await snapshot(today())).toEqual(before);

    const list = await t.call('GET', `/api/v1/staff/reconciliation/days?from=${daysAgo(2)}&to=${today()}`, { token: admin });
    expect(list.body.items.map((d: any) => [d.billDate, d.statusLabel])).toEqual([
      [today(), '已平'],
      [daysAgo(1), '已平'],
      [daysAgo(2), '未对账'],
    ]);
  });

  it('only finance and admin see any of it; only finance runs and resolves', async () => {
    const agent = await t.loginStaff('agent1');
    const admin = await t.loginStaff('admin');
    const resident = await t.loginResident();
    for (const token of [agent, resident]) {
      expect((await t.call('GET', '/api/v1/staff/reconciliation/days', { token })).status).toBe(403);
      expect((await dayOf(today(), token)).status).toBe(403);
      expect((await run(today(), token)).status).toBe(403);
    }
    expect((await t.call('GET', '/api/v1/staff/reconciliation/days')).status).toBe(401);
    expect((await t.call('GET', '/api/v1/staff/reconciliation/days', { token: admin })).status).toBe(200);
    expect((await run(today(), admin)).status).toBe(403);
    const future = await run(chinaDate(new Date(Date.now() + 2 * DAY_MS)));
    expect(future.status).toBe(400);
    expect(future.body.error.code).toBe('RECON_DATE_INVALID');
    const badDate = await run('2026-02-30');
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.details.fields[0].field).toBe('date');
  });
});

describe('a bill where nothing matches', () => {
  const no = (i: number) => 'ZZ' + String(i).padStart(22, '0');
  /** payments nobody ordered (rows i of `ids`), in WeChat's format with a correct summary */
  function bill(date: string, ids: number[]) {
    const rows = ids.map((i) =>
      paymentRow({
        time: `${date} 10:00:00`,
        appid: 'wxtest',
        mchid: '1900000001',
        transactionId: '42' + String(i).padStart(26, '0'),
        outTradeNo: no(i),
        openid: 'o-x',
        fen: 100,
        feeFen: 0,
        description: '供热费',
      }),
    );
    return '\uFEFF' + TRADE_BILL_HEADER + '\r\n' + rows.join('') + billSummary(ids.length, ids.length * 100, 0);
  }

  it('writes each difference once in batches (repeats far apart are duplicates), a re-run adds nothing, and clears what it no longer finds', async () => {
    const date = daysAgo(50);
    // small batches: repeats land in the same batch, in one being written and in one long written
    const recon = new ReconciliationService({
      ds: t.ds,
      pay: t.services.payments as any,
      payments: t.services.payments,
      company: t.services.company,
      log: t.log,
      clock: () => new Date(),
      batchSize: 37,
      writeBatch: 45,
    });
    const ids = Array.from({ length: 1600 }, (_, i) => i);
    const repeats = [5, 5, 40, 41, 700, 1599];
    const text = bill(date, [...ids.slice(0, 42), 5, ...ids.slice(42), ...repeats.slice(1)]);
    const out = await recon.reconcile(date, Readable.from([text]));
    const repo = t.ds.getRepository(ReconDiscrepancy);
    const all = await repo.find({ where: { billDate: date } });
    const keys = new Set(all.map((d) => d.key));
    expect(all).toHaveLength(1600 + 5);
    expect(keys.size).toBe(all.length);
    for (const i of [5, 40, 41, 700, 1599]) expect(keys.has(`dup:pay:${no(i)}`)).toBe(true);
    expect(out.classes).toMatchObject({ surplus: 1600, duplicate: 5, matched: 0 });
    expect(out.discrepancies).toBe(1605);

    // the same bill again: nothing new, nothing cleared
    const again = await recon.reconcile(date, Readable.from([text]));
    expect(again.classes).toMatchObject({ surplus: 1600, duplicate: 5 });
    expect(await repo.count({ where: { billDate: date } })).toBe(1605);
    expect(await repo.count({ where: { billDate: date, status: 'open' } })).toBe(1605);

    // finance settles one; a bill with the first 1000 rows: the rest are cleared by the system, the settled one stays settled
    const settled = all.find((d) => d.key === `pay:${no(1500)}`)!;
    const finance = { kind: 'staff' as const, staffId: 1, sessionId: 0, name: '财务', roles: ['finance' as const], areaIds: [] };
    await recon.resolve(finance, settled, { resolution: 'no_action', note: '测试' });
    expect(await recon.day(date)).toMatchObject({ openDiscrepancies: 1604, totalDiscrepancies: 1605 });
    await recon.reconcile(date, Readable.from([bill(date, ids.slice(0, 1000))]));
    expect(await repo.count({ where: { billDate: date, status: 'open' } })).toBe(1000);
    expect(await repo.count({ where: { billDate: date, resolution: 'cleared_on_rerun' } })).toBe(604);
    expect(await repo.findOneByOrFail({ billDate: date, key: settled.key })).toMatchObject({ status: 'resolved', resolution: 'no_action', note: '测试' });
    const day = await recon.day(date);
    expect(day).toMatchObject({ status: 'differences', openDiscrepancies: 1000, totalDiscrepancies: 1605 });
    expect(day.discrepancies).toHaveLength(1000); // the list stops at DAY_LIST_LIMIT, open first
    expect(day.discrepancies.every((d) => d.status === 'open')).toBe(true);
    await repo.delete({ billDate: date });
    await t.ds.getRepository(ReconDay).delete({ billDate: date });
  });

  // MariaDB only: a run's INSERT carries its day, run and time in its SQL, so it is the run's own statement
  it.skipIf(!usingMariaDb())('stamps each difference with the run’s time and leaves none of its statements prepared', async () => {
    const date = daysAgo(51);
    // one pooled connection: the run's writes and SHOW STATUS all run on it
    const ds = createDataSource({ url: t.db.url, sqlitePath: ':memory:', poolSize: 1 });
    await ds.initialize();
    try {
      const ran = new Date('2026-11-30T02:00:00.123Z');
      const recon = new ReconciliationService({
        ds,
        pay: t.services.payments as any,
        payments: t.services.payments,
        company: t.services.company,
        log: t.log,
        clock: () => ran,
      });
      const counts = () => statementCounts(ds);
      const before = await counts();
      // 1,200 differences: two full statements of 500 (prepared) and the rest (not)
      const out = await recon.reconcile(
        date,
        Readable.from([
          bill(
            date,
            Array.from({ length: 1200 }, (_, i) => 20_000 + i),
          ),
        ]),
      );
      expect(out.discrepancies).toBe(1200);
      const after = await counts();
      expect(after.Com_stmt_prepare - before.Com_stmt_prepare).toBe(1);
      expect(after.Com_stmt_close - before.Com_stmt_close).toBe(1);
      const rows = await ds.getRepository(ReconDiscrepancy).find({ where: { billDate: date } });
      expect(rows).toHaveLength(1200);
      expect(new Set(rows.map((d) => `${d.status} ${d.seenRun} ${d.createdAt.toISOString()} ${d.updatedAt.toISOString()}`))).toEqual(
        new Set([`open 1 ${ran.toISOString()} ${ran.toISOString()}`]),
      );
      await ds.getRepository(ReconDiscrepancy).delete({ billDate: date });
      await ds.getRepository(ReconDay).delete({ billDate: date });
    } finally {
      await ds.destroy();
    }
  });

  // MariaDB only: the settling runs on another connection while the clearing's transaction waits
  it.skipIf(!usingMariaDb())('a re-run’s clearing keeps what finance settled meanwhile, and counts it once', async () => {
    const date = daysAgo(52);
    const recon = t.services.reconciliation;
    await recon.reconcile(date, Readable.from([bill(date, [9000, 9001, 9002])]));
    const repo = t.ds.getRepository(ReconDiscrepancy);
    const settled = await repo.findOneByOrFail({ billDate: date, key: `pay:${no(9001)}` });
    const finance = { kind: 'staff' as const, staffId: 1, sessionId: 0, name: '财务', roles: ['finance' as const], areaIds: [] };
    // finance settles 9001 after the clearing read it as open, before the clearing writes
    let settling = false;
    const hook = {
      async beforeQuery(e: { query: string; parameters?: unknown[] }) {
        if (settling || !/^UPDATE\s+\W?recon_discrepancy/i.test(e.query) || !e.parameters?.includes('cleared_on_rerun')) return;
        settling = true;
        await recon.resolve(finance, settled, { resolution: 'no_action', note: '已人工核实' });
      },
    };
    (t.ds.subscribers as unknown as object[]).push(hook);
    try {
      await recon.reconcile(date, Readable.from([bill(date, [9000])]));
    } finally {
      t.ds.subscribers.splice(t.ds.subscribers.indexOf(hook as any), 1);
    }
    expect(settling).toBe(true);
    expect(await repo.findOneByOrFail({ billDate: date, key: settled.key })).toMatchObject({
      status: 'resolved',
      resolution: 'no_action',
      note: '已人工核实',
      resolvedByName: '财务',
    });
    expect(await repo.findOneByOrFail({ billDate: date, key: `pay:${no(9002)}` })).toMatchObject({ status: 'resolved', resolution: 'cleared_on_rerun' });
    expect(await recon.day(date)).toMatchObject({ status: 'differences', openDiscrepancies: 1, totalDiscrepancies: 3 });
    await repo.delete({ billDate: date });
    await t.ds.getRepository(ReconDay).delete({ billDate: date });
  });

  it('writes full statements of differences as the bill has them (prepared on MariaDB), and the remainder', async () => {
    const date = daysAgo(51);
    // the default batches: 1,234 differences are two statements of 500 (prepared) and one of 234
    const ids = Array.from({ length: 1234 }, (_, i) => 5000 + i);
    const out = await t.services.reconciliation.reconcile(date, Readable.from([bill(date, ids)]));
    expect(out.classes).toMatchObject({ surplus: 1234, matched: 0 });
    const repo = t.ds.getRepository(ReconDiscrepancy);
    const all = await repo.find({ where: { billDate: date }, order: { key: 'ASC' } });
    expect(all).toHaveLength(1234);
    for (const [n, d] of all.entries()) {
      const i = ids[n]!;
      expect(d).toMatchObject({
        key: `pay:${no(i)}`,
        kind: 'surplus',
        outTradeNo: no(i),
        outRefundNo: null,
        ledger: null,
        diffFen: 100,
        status: 'open',
        wechat: { transactionId: '42' + String(i).padStart(26, '0'), outTradeNo: no(i), amountFen: 100, tradeState: 'SUCCESS', feeFen: 0 },
      });
      expect(d.createdAt).toBeInstanceOf(Date);
    }
    await repo.delete({ billDate: date });
    await t.ds.getRepository(ReconDay).delete({ billDate: date });
  });
});

describe('bills paid twice', () => {
  async function payTwice(account: { accountNo: string; ownerName: string }) {
    const a = await t.residentWith(account);
    const b = await t.residentWith(account);
    const bills = await t.call('GET', '/api/v1/bills', { token: a.token });
    const bill = bills.body.items.find((x: any) => x.accountNo === account.accountNo && x.season === CURRENT);
    const oa = (await t.call('POST', '/api/v1/payments', { token: a.token, body: { billId: bill.id } })).body;
    const ob = (await t.call('POST', '/api/v1/payments', { token: b.token, body: { billId: bill.id } })).body;
    for (const [user, o] of [
      [a.user, oa],
      [b.user, ob],
    ] as const) {
      const res = await t.call('POST', '/sandbox/device/pay', { body: { ...o.requestPayment, user, action: 'confirm' } });
      expect(res.body.errMsg).toBe('requestPayment:ok');
      await sandbox().settleNotifications();
    }
    await t.services.outbox.drain(); // the automatic refund of the second payment goes to WeChat
    return { bill, kept: oa, dup: ob, outRefundNo: `${ob.outTradeNo}R1` };
  }

  it('shows the second payment as a pair with the refund that cancels it; only an unrefunded one is a difference', async () => {
    const p = await payTwice(DEMO.accounts[5]!);
    // refund asked, not yet confirmed: a pair 退款中, the refund row in transit, the day still balanced
    let res = await run(today());
    expect(res.body.status).toBe('balanced');
    expect(res.body.classes).toMatchObject({ duplicatePaid: 1, double_payment: 0 });
    expect(res.body.duplicatePayments).toEqual([
      expect.objectContaining({
        billId: p.bill.id,
        kept: expect.objectContaining({ outTradeNo: p.kept.outTradeNo, amountFen: p.kept.amountFen, transactionId: expect.any(String) }),
        duplicate: expect.objectContaining({ outTradeNo: p.dup.outTradeNo, amountFen: p.dup.amountFen }),
        refund: expect.objectContaining({ outRefundNo: p.outRefundNo, amountFen: p.dup.amountFen }),
        state: 'refunding',
        stateLabel: '退款中',
        outstandingFen: p.dup.amountFen,
      }),
    ]);
    // WeChat confirms: the pair cancels out, both payments and the refund matched
    await sandbox().completeRefund(p.outRefundNo);
    await sandbox().settleNotifications();
    res = await run(today());
    expect(res.body).toMatchObject({ status: 'balanced', openDiscrepancies: 0 });
    expect(res.body.duplicatePayments[0]).toMatchObject({
      state: 'refunded',
      stateLabel: '已原路退回',
      outstandingFen: 0,
      refund: { status: 'success', succeededAt: expect.any(String) },
    });

    // a second pair whose refund WeChat closed: a 重复支付未退回 difference with both payments and the refund
    const q = await payTwice(DEMO.accounts[6]!);
    await t.ds.getRepository(Refund).update({ outRefundNo: q.outRefundNo }, { status: 'closed' });
    res = await run(today());
    expect(res.body).toMatchObject({ status: 'differences', openDiscrepancies: 1 });
    expect(res.body.classes).toMatchObject({ duplicatePaid: 2, double_payment: 1 });
    const d = res.body.discrepancies.find((x: any) => x.status === 'open');
    expect(d).toMatchObject({
      kind: 'double_payment',
      kindLabel: '重复支付未退回',
      key: `duppay:${q.dup.outTradeNo}`,
      diffFen: q.dup.amountFen,
      wechat: { duplicate: { outTradeNo: q.dup.outTradeNo }, kept: { outTradeNo: q.kept.outTradeNo } },
      ledger: { billId: q.bill.id, refund: { outRefundNo: q.outRefundNo, status: 'closed' } },
    });
    expect(res.body.duplicatePayments.map((x: any) => x.state)).toEqual(['refunded', 'open']);
    const ok = await t.call('POST', `/api/v1/staff/reconciliation/days/${d.billDate}/discrepancies/${encodeURIComponent(d.key)}/resolve`, {
      token: finance,
      body: { resolution: 'refunded', note: '已通过银行转账退回住户' },
    });
    expect(ok.body.day.status).toBe('balanced');
  });
});

describe('export and the season view', () => {
  it('exports a day and a range to XLSX: summary, differences with resolutions, double payments, healed', async () => {
    const ExcelJS = (await import('exceljs')).default;
    const res = await fetch(`${t.url}/api/v1/staff/reconciliation/export?date=${today()}`, { headers: { Authorization: `Bearer ${finance}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/spreadsheetml/);
    expect(res.headers.get('content-disposition')).toContain(`reconciliation-${today()}.xlsx`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as any);
    expect(wb.worksheets.map((w) => w.name)).toEqual(['对账汇总', '差异明细', '重复支付', '自愈记录']);
    const values = (name: string) =>
      wb
        .getWorksheet(name)!
        .getSheetValues()
        .slice(2)
        .map((r: any) => r.slice(1));
    const day = (await dayOf(today())).body;
    const [summary] = values('对账汇总');
    expect(summary!.slice(0, 4)).toEqual([today(), '已平', day.wechat.paymentCount, day.wechat.paymentFen / 100]);
    const diffs = values('差异明细');
    expect(diffs).toHaveLength(day.totalDiscrepancies);
    expect(diffs.map((r: any) => r[1])).toEqual(expect.arrayContaining(['短款', '金额不符', '退款不符', '重复支付未退回']));
    expect(diffs.find((r: any) => r[1] === '重复支付未退回')).toEqual(expect.arrayContaining(['已处理', '已退款', '已通过银行转账退回住户']));
    // each pair: first settled by a WeChat payment (no counter time), then the refund's state and the pair's
    expect(values('重复支付').map((r: any) => [r[2], r[3] ?? null, r[11], r[13]])).toEqual([
      ['微信支付', null, '已退款', '已原路退回'],
      ['微信支付', null, '退款关闭', '未退回'],
    ]);
    expect(values('自愈记录')).toHaveLength(day.healed.length);

    const range = await fetch(`${t.url}/api/v1/staff/reconciliation/export?from=${daysAgo(2)}&to=${today()}`, {
      headers: { Authorization: `Bearer ${finance}` },
    });
    const wb2 = new ExcelJS.Workbook();
    await wb2.xlsx.load(Buffer.from(await range.arrayBuffer()) as any);
    expect(
      wb2
        .getWorksheet('对账汇总')!
        .getSheetValues()
        .slice(2)
        .map((r: any) => [r[1], r[2]]),
    ).toEqual([
      [daysAgo(2), '未对账'],
      [daysAgo(1), '已平'],
      [today(), '已平'],
    ]);
    const agent = await t.loginStaff('agent1');
    expect((await t.call('GET', `/api/v1/staff/reconciliation/export?date=${today()}`, { token: agent })).status).toBe(403);
    const bad = await t.call('GET', '/api/v1/staff/reconciliation/export', { token: finance });
    expect(bad.status).toBe(400);
  });

  it('lists a heating season’s days (company season start, up to today) for the calendar', async () => {
    // the latest season that has started by the test's today (Nov 1 .. Apr 1 of the next year)
    const y = Number(today().slice(0, 4));
    const start = today() >= `${y}-11-01` ? y : y - 1;
    const season = `${start}-${start + 1}`;
    const end = `${start + 1}-04-01`;
    const res = await t.call('GET', `/api/v1/staff/reconciliation/days?season=${season}`, { token: finance });
    expect(res.status).toBe(200);
    const dates = res.body.items.map((d: any) => d.billDate);
    // newest first: today while the season runs, else its last day
    expect(dates[0]).toBe(today() < end ? today() : end);
    expect(dates.at(-1)).toBe(`${start}-11-01`);
    if (today() < end) expect(res.body.items.find((d: any) => d.billDate === today())).toMatchObject({ status: 'balanced' });
    expect((await t.call('GET', '/api/v1/staff/reconciliation/days?season=2026-2028', { token: finance })).status).toBe(400);
  });
});

describe('fetch failures and the schedule', () => {
  let mode: 'creating' | 'hash' | 'real' = 'creating';
  let recon: ReconciliationService;
  beforeAll(() => {
    const real = createPayClientFromConfig(t.config);
    const pay: PayClient = {
      ...real,
      async downloadTradeBill(input) {
        if (mode === 'creating') throw new PayApiError(400, 'STATEMENT_CREATING', '账单生成中');
        if (mode === 'hash') {
          // the real download ran and wrote the file; the hash check failed
          await fs.promises.writeFile(input.toFile, 'half a bill');
          throw new PayApiError(200, 'BILL_HASH_MISMATCH', 'bill SHA1 does not match');
        }
        return real.downloadTradeBill(input);
      },
    };
    recon = new ReconciliationService({
      ds: t.ds,
      pay,
      payments: t.services.payments,
      company: t.services.company,
      log: t.log,
      clock: () => new Date(),
      billDir,
    });
  });

  it('the Pay client streams the bill to a file while hashing it (plain and gzip), the same bytes as tradeBill', async () => {
    const real = createPayClientFromConfig(t.config);
    const { csv, hashValue } = await real.tradeBill({ billDate: today() });
    for (const gzip of [false, true]) {
      const toFile = path.join(billDir, `stream-test-${gzip}.csv`);
      const got = await real.downloadTradeBill({ billDate: today(), gzip, toFile });
      expect(got).toEqual({ hashValue, bytes: Buffer.byteLength(csv) });
      expect(fs.readFileSync(toFile, 'utf8')).toBe(csv);
      fs.rmSync(toFile);
    }
    await expect(real.downloadTradeBill({ billDate: daysAgo(20), toFile: path.join(billDir, 'none.csv') })).rejects.toMatchObject({
      code: 'NO_STATEMENT_EXIST',
    });
    expect(fs.existsSync(path.join(billDir, 'none.csv'))).toBe(false);
  });

  it('a wrong hash or a failed download: a clear error, the last report untouched, a retry later', async () => {
    mode = 'hash';
    const before = await snapshot(today());
    await expect(recon.run(today())).rejects.toMatchObject({ code: 'RECON_FETCH_FAILED', details: { reason: 'BILL_HASH_MISMATCH' } });
    const day = await t.ds.getRepository(ReconDay).findOneByOrFail({ billDate: today() });
    expect(day).toMatchObject({ status: 'balanced', lastError: expect.stringContaining('BILL_HASH_MISMATCH'), lockedUntil: null });
    expect(day.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    const after = await snapshot(today());
    expect(fs.readdirSync(path.join(billDir, today().slice(0, 7))).filter((f) => !f.endsWith('.csv'))).toEqual([]); // no partial download left
    expect(after.rows).toEqual(before.rows);
    expect(after.day).toEqual(before.day);
    // a day never reconciled shows the failure, with no half-written report
    await expect(recon.run(daysAgo(5))).rejects.toMatchObject({ code: 'RECON_FETCH_FAILED' });
    const failed = (await dayOf(daysAgo(5))).body;
    expect(failed).toMatchObject({
      status: 'failed',
      statusLabel: '未对账',
      wechat: null,
      classes: null,
      discrepancies: [],
      lastError: expect.stringContaining('BILL_HASH_MISMATCH'),
    });
  });

  it('runs yesterday from 10:00 China time, waits while WeChat’s bill is not ready, then reconciles', async () => {
    // "now" three days ago: yesterday of then is four days ago
    const base = new Date(`${daysAgo(3)}T00:00:00+08:00`).getTime();
    const at = (h: number, m = 0) => new Date(base + h * 3600_000 + m * 60_000);
    mode = 'creating';
    expect(await recon.runScheduled(at(9, 59))).toEqual({ billDate: null, outcome: 'too_early' });
    expect(await recon.runScheduled(at(10, 0))).toEqual({ billDate: daysAgo(4), outcome: 'not_ready' });
    const waiting = await t.ds.getRepository(ReconDay).findOneByOrFail({ billDate: daysAgo(4) });
    expect(waiting).toMatchObject({ status: 'not_ready', lastError: expect.stringContaining('STATEMENT_CREATING') });
    expect(waiting.nextAttemptAt).toEqual(at(10, 30));
    expect(await recon.runScheduled(at(10, 5))).toMatchObject({ outcome: 'waiting', status: 'not_ready' });
    mode = 'real';
    expect(await recon.runScheduled(at(10, 31))).toEqual({ billDate: daysAgo(4), outcome: 'ran', status: 'balanced' });
    expect(await recon.runScheduled(at(11, 0))).toEqual({ billDate: daysAgo(4), outcome: 'done', status: 'balanced' });
    expect((await dayOf(daysAgo(4))).body).toMatchObject({ status: 'balanced', emptyBill: true, lastError: null, nextAttemptAt: null });
  });
});
