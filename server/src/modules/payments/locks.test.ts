/**
 * A batch of payment notifications locks its own orders and nothing else, also when the database's
 * statistics are stale (a table just filled, as on the first days of a season or after a bulk
 * load). With `outTradeNo IN (…) ORDER BY id … FOR UPDATE`, MariaDB skipped the sort by scanning
 * the whole primary key and locked every order of the table: one resident's payment being set up
 * or refunded held up every notification until the lock wait ran out, and WeChat had to retry.
 * MariaDB only (SQLite has no row locks).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { startTestApp, type TestApp } from '../../test-support/app';
import { usingMariaDb } from '../../test-support/db';
import { mysqlUrl } from '../../platform/db/data-source';
import { Bill } from '../billing/entities';
import { PaymentOrder } from './entities';
import { transactionPlaintext } from '../../test-support/wechat-pay';
import type { Transaction } from '../../wechat/pay';

const maria = usingMariaDb();
let t: TestApp;

beforeAll(async () => {
  if (maria) t = await startTestApp({ seedDemo: true });
}, 60_000);
afterAll(async () => t?.close());

it.runIf(maria)(
  'credits a batch while another order of the table is locked, with the statistics of an almost empty table',
  async () => {
    const { ds, config, services } = t;
    const bills = await ds.getRepository(Bill).find({ where: { status: 'unpaid' }, order: { id: 'ASC' }, take: 200 });
    expect(bills.length).toBe(200);
    const stamp = Date.now();
    const orders = bills.map((b, i) => ({
      outTradeNo: `LOCK${stamp}${String(i).padStart(4, '0')}`,
      billId: b.id,
      accountId: b.accountId,
      residentId: 1,
      openid: 'o-lock',
      description: '采暖费',
      amountFen: b.chargeFen,
      discountFen: 0,
      lateFeeFen: 0,
      status: 'pending' as const,
      expiresAt: new Date(Date.now() + 3600_000),
      duplicate: false,
      refundedFen: 0,
    }));
    await ds.getRepository(PaymentOrder).insert(orders);
    const ids = new Map((await ds.getRepository(PaymentOrder).find({ select: { id: true, outTradeNo: true } })).map((o) => [o.outTradeNo, o.id]));

    // the statistics of a table with one row on one page, as InnoDB keeps them until it recounts
    const [{ db }] = await ds.query('SELECT DATABASE() AS db');
    await ds.query(
      "UPDATE mysql.innodb_table_stats SET n_rows = 1, clustered_index_size = 1, sum_of_other_index_sizes = 1 WHERE database_name = ? AND table_name = 'payment_order'",
      [db],
    );
    await ds.query('FLUSH TABLES payment_order');

    // another transaction holds the last order (a refund, a resident's payment being set up)
    const other = await mysql.createConnection(mysqlUrl(t.db.url!));
    try {
      await other.query('START TRANSACTION');
      await other.query('SELECT id FROM payment_order WHERE id = ? FOR UPDATE', [ids.get(orders.at(-1)!.outTradeNo)]);

      const paid = orders.slice(10, 25);
      const started = Date.now();
      const results = await services.payments.creditMany(
        paid.map((o) => transactionPlaintext(t, o) as Transaction),
        'notify',
      );
      // credited at once, not after the lock wait (DB_LOCK_WAIT_SECONDS) ran out
      expect(results).toEqual(paid.map(() => 'credited'));
      expect(Date.now() - started).toBeLessThan(config.DB_LOCK_WAIT_SECONDS * 1000);
      const [{ n }] = await ds.query("SELECT COUNT(*) AS n FROM payment_order WHERE status = 'paid' AND outTradeNo LIKE ?", [`LOCK${stamp}%`]);
      expect(Number(n)).toBe(paid.length);
    } finally {
      await other.end();
    }
  },
  60_000,
);
