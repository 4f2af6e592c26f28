/**
 * WeChat Pay notifications: the BFF's rate as a ratio to a bare handler in the same run.
 *
 *   npm run bench:notify [-- --n 40000 --rounds 8 --concurrency 128]
 *
 * Needs MariaDB (TEST_DATABASE_URL, default mariadb://root@127.0.0.1:3306): a database hb_t_<random>
 * is created and dropped (test-support startTestApp, demo seed).
 *
 * Set-up (not timed, ~40 s): N unpaid bills (1,000 households, the demo's and a bench building's,
 * over 40 seasons), one pending order each inserted directly, and one signed + encrypted
 * TRANSACTION.SUCCESS notification per order built by the sandbox. N was 8,000 in 3 rounds until
 * 2026-12-01: runs of half a second, whose ratio moved 72–96 % from round to round (sd 4–12 points
 * with 8 rounds of 40,000); the run's standard error is printed.
 * - BFF: POST /api/v1/wechat/pay/notify — verify the RSA signature, decrypt AES-256-GCM, credit the
 *   order (order, bill, ledger, outbox) in one transaction. Compiled as production runs it (`npm run
 *   build`, plain node, its own process: bench/bff-child.mjs).
 * - bare: a Koa handler in a process of its own under the BFF's node flags (bench/bare-child.mjs),
 *   same pool size, that does the same verify + decrypt (the project's PayClient, compiled) and one
 *   idempotent insert with raw mysql2 (INSERT IGNORE by transaction id).
 * Both get the same notifications from the load generator's process (bench/post-child.mjs, node:http)
 * with CONCURRENCY in flight. After a warm-up
 * (a fifth), the items run in ROUNDS rounds of ABBA (bare, BFF, BFF, bare) so that a neighbour's
 * load hits both alike; the ratio is over all rounds, and each round's is printed.
 * Goal of issue 18 (2 cores): BFF ≥ 80% of bare.
 * The goal is a rate, each side's capacity, so both are measured saturated: 128 notifications in
 * flight. The bare handler is saturated at 32 already (its rate the same at 32 and 128); the BFF
 * credits notifications in batches, one transaction each (crediting.ts), and with 32 in flight it is
 * not: every notification waits for its batch's commit while node sits idle, and it reached 57–71 %
 * of the bare handler's rate (75.7 % at 64, 85–88 % at 128; 2026-12-01, bench/RESULTS.md). WeChat's
 * notifications come as payments are made, not 32 at a time: at the rates where capacity matters
 * (2,000 a second, answered in ~50 ms) about 100 are in flight. `--concurrency 32` shows the
 * latency-bound case. Since 2026-12-01 a second batch starts beside a committing one once 48
 * notifications wait (crediting.ts OVERLAP_AT): 76.8–83.0 % before, 83.2–86.7 % after.
 */

process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { startTestApp } from '../server/src/test-support/app';
import mysql from 'mysql2/promise';
import { mysqlUrl } from '../server/src/platform/db/data-source';
import { Bill } from '../server/src/modules/billing/entities';
import { PaymentOrder } from '../server/src/modules/payments/entities';
import { DEMO, demoSeason } from '../server/src/demo/seed';
import { transactionPlaintext } from '../server/src/test-support/wechat-pay';
import { bareChild, builtBff, dbCpuMs, flag, fmt, meanWithError, postAll, procCpuMs, run, summary, type PostRun } from './lib';

const N = flag('n', 40000, 'BENCH_N');
const ROUNDS = flag('rounds', 8, 'BENCH_ROUNDS');
const CONCURRENCY = flag('concurrency', 128, 'BENCH_CONCURRENCY');
const GOAL = 0.8;

type Item = { body: string; headers: Record<string, string> };

run(async () => {
  console.log(`starting the BFF (MariaDB, demo seed)…`);
  const t = await startTestApp({ seedDemo: true });
  let closeBare = async () => {};
  let closeBff = async () => {};
  let closePool = async () => {};
  try {
    const { services, ds, config } = t;
    const token = await t.loginResident('bench-user');
    const a = DEMO.accounts[0]!;
    const bind = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: a.accountNo, ownerName: a.ownerName } });
    if (bind.status !== 201) throw new Error(`bind: ${bind.status} ${JSON.stringify(bind.body)}`);
    const setupStart = Date.now();
    const [resident] = await ds.query('SELECT id FROM resident ORDER BY id DESC LIMIT 1');

    // N unpaid bills in at most 40 seasons (2030-2031, 2031-2032, …): the demo's 216 households and,
    // past 8,640 bills, those of a building of the bench's own
    const households = Math.ceil(N / 40) - DEMO.accounts.length;
    if (households > 0) {
      const [area] = await services.company.areas();
      const building = await services.accounts.createBuilding({ areaId: area!.id, name: '压测楼', address: '压测路1号', substation: '压测换热站' });
      const unit = await services.accounts.ensureUnit(building.id, '1');
      for (let i = 0; i < households; i++)
        await services.accounts.createAccount({
          accountNo: `99${String(i).padStart(8, '0')}`,
          unitId: unit.id,
          roomNo: String(1001 + i),
          ownerName: '压测户',
          contactPhone: '13800000000',
          heatedArea: 10000,
          use: 'residential',
          status: 'active',
        });
    }
    const bills: Bill[] = [];
    for (let y = 2030; bills.length < N; y++) {
      const code = `${y}-${y + 1}`;
      await services.billing.createSeason(demoSeason(y));
      await services.billing.issueBills(code);
      const season = await services.billing.seasonByCode(code);
      bills.push(...(await ds.getRepository(Bill).find({ where: { seasonId: season.id, status: 'unpaid' }, order: { id: 'ASC' } })));
    }
    bills.length = N;
    const expiresAt = new Date(Date.now() + 3600_000);
    const orders = bills.map((b, i) => ({
      outTradeNo: `BENCH${Date.now()}${String(i).padStart(6, '0')}`,
      billId: b.id,
      accountId: b.accountId,
      residentId: resident.id,
      openid: 'o-bench',
      description: 'bench',
      amountFen: b.chargeFen,
      discountFen: 0,
      lateFeeFen: 0,
      status: 'pending' as const,
      pendingKey: null,
      payParams: null,
      transactionId: null,
      expiresAt,
      paidAt: null,
      creditedBy: null,
      duplicate: false,
      refundedFen: 0,
    }));
    for (let i = 0; i < orders.length; i += 500) await ds.getRepository(PaymentOrder).insert(orders.slice(i, i + 500) as any);
    const sandbox = t.sandbox!.state;
    const items: Item[] = orders.map((o) =>
      sandbox.buildNotification({
        eventType: 'TRANSACTION.SUCCESS',
        plaintext: transactionPlaintext(t, o),
      }),
    );

    // ---- the bare handler, in a process of its own (bench/bare-child.mjs) ----------------------
    console.log(`set-up: ${N} bills, orders and notifications in ${((Date.now() - setupStart) / 1000).toFixed(1)} s`);
    const bareSrv = await bareChild({
      kind: 'notify',
      uri: mysqlUrl(t.db.url!),
      pool: config.DB_POOL_SIZE,
      pay: { appid: config.WECHAT_APPID, mchid: config.WXPAY_MCHID, apiV3Key: config.WXPAY_APIV3_KEY },
    });
    closeBare = bareSrv.close;
    // this process's own connections: the bare handler's table, the server's statement count
    const pool = mysql.createPool({ uri: mysqlUrl(t.db.url!), connectionLimit: 2 });
    closePool = () => pool.end();
    await pool.query(
      'CREATE TABLE bench_notification (transactionId VARCHAR(32) PRIMARY KEY, outTradeNo VARCHAR(64) NOT NULL, amountFen INT NOT NULL, at DATETIME(3) NOT NULL)',
    );
    const bareUrl = bareSrv.url;
    // the measured BFF: the production build under plain node, in its own process, on this database
    console.log('starting the compiled BFF (npm run build, node) on the same database…');
    const built = await builtBff(t.db.url!, { uploadDir: config.UPLOAD_DIR });
    closeBff = built.close;
    const bffUrl = `${built.url}/api/v1/wechat/pay/notify`;

    // ---- warm-up (a fifth, both: JIT and pools at steady state), then rounds of ABBA over the rest ----
    const warm = Math.max(50, Math.floor(N / 5));
    await postAll(bareUrl, items.slice(0, warm), CONCURRENCY);
    await postAll(bffUrl, items.slice(0, warm), CONCURRENCY);
    const rest = items.slice(warm);
    // ROUNDS rounds of ABBA, each on two fresh chunks: one ABBA cancels a steady drift, several
    // average out the bursts of a shared machine (one round's ratio moved 70–85 % from run to run)
    const size = Math.floor(rest.length / (2 * ROUNDS));
    const chunks = Array.from({ length: 2 * ROUNDS }, (_, i) => rest.slice(i * size, (i + 1) * size));
    const m = size * 2 * ROUNDS;
    console.log(`${m} notifications each, ${CONCURRENCY} in flight, ${ROUNDS} rounds of ABBA (bare, BFF, BFF, bare)…`);
    const runs: { bare: PostRun[]; bff: PostRun[] } = { bare: [], bff: [] };
    // CPU per notification: the serving process (the BFF's child or the bare handler's), the load
    // generator's (bench/post-child.mjs: signing nothing, the notifications are built beforehand;
    // the servers' ratio means something only while it stays well below theirs), the database
    // server; and the statements the database received (Questions)
    const cost = { bare: { bff: 0, load: 0, db: 0, statements: 0 }, bff: { bff: 0, load: 0, db: 0, statements: 0 } };
    const questions = async () => Number(((await pool.query("SHOW GLOBAL STATUS LIKE 'Questions'")) as any)[0][0].Value);
    // items / summed time of these runs: every run has `size` items
    const rate = (rs: PostRun[]) => rs.length / rs.reduce((s, r) => s + 1 / r.rate, 0);
    const measured = async (which: 'bare' | 'bff', part: Item[]) => {
      const serving = () => procCpuMs(which === 'bare' ? bareSrv.pid : built.pid);
      const [b0, d0, q0] = [serving(), dbCpuMs(), await questions()];
      const r = await postAll(which === 'bare' ? bareUrl : bffUrl, part, CONCURRENCY);
      runs[which].push(r);
      const [b1, d1, q1] = [serving(), dbCpuMs(), await questions()];
      const c = cost[which];
      c.bff += b1 - b0;
      c.load += r.cpuMs;
      c.db += d1 - d0;
      c.statements += q1 - q0 - 1; // not the first SHOW
    };
    const roundRatios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const [h1, h2] = [chunks[2 * r]!, chunks[2 * r + 1]!];
      await measured('bare', h1);
      await measured('bff', h1);
      await measured('bff', h2);
      await measured('bare', h2);
      roundRatios.push(rate(runs.bff.slice(-2)) / rate(runs.bare.slice(-2)));
    }

    const [credited] = await ds.query("SELECT COUNT(*) AS n FROM ledger_entry WHERE kind = 'payment'");
    const [inserted] = await pool.query('SELECT COUNT(*) AS n FROM bench_notification');
    // the rate over everything measured
    const bff = rate(runs.bff);
    const bare = rate(runs.bare);
    const statuses = (rs: PostRun[]) =>
      JSON.stringify(
        rs.reduce<Record<string, number>>((o, r) => {
          for (const [k, v] of Object.entries(r.statuses)) o[k] = (o[k] ?? 0) + v;
          return o;
        }, {}),
      );
    const span = (xs: number[]) => `${fmt(Math.min(...xs), 1)}–${fmt(Math.max(...xs), 1)}`;
    const runsLine = (rs: PostRun[]) => `${rs.map((r) => fmt(r.rate)).join(' ')}; ${span(rs.map((r) => r.p50))}, ${span(rs.map((r) => r.p99))}`;
    const costLine = (c: (typeof cost)['bff']) =>
      `${fmt((c.bff / m) * 1000)} µs serving + ${fmt((c.db / m) * 1000)} µs db (load generator ${fmt((c.load / m) * 1000)} µs); ${fmt(c.statements / m, 2)} statements`;
    summary(`notifications (N=${N}, ${m} measured each in ${ROUNDS} rounds, c=${CONCURRENCY})`, [
      { what: 'BFF notifications credited / s', value: fmt(bff) },
      { what: '  runs (/s); p50, p99 of a run: min–max ms', value: runsLine(runs.bff) },
      { what: '  statuses / ledger rows', value: `${statuses(runs.bff)} / ${(credited as any).n}` },
      { what: 'bare verify+decrypt+insert / s', value: fmt(bare) },
      { what: '  runs (/s); p50, p99 of a run: min–max ms', value: runsLine(runs.bare) },
      { what: '  statuses / rows', value: `${statuses(runs.bare)} / ${(inserted as any)[0].n}` },
      { what: 'CPU per notification, BFF', value: costLine(cost.bff) },
      { what: 'CPU per notification, bare', value: costLine(cost.bare) },
      { what: 'BFF / bare per round', value: roundRatios.map((x) => `${fmt(x * 100, 1)}%`).join('  ') },
      { what: '  mean ± standard error (sd of a round)', value: meanWithError(roundRatios) },
      { what: 'BFF / bare', value: `${fmt((bff / bare) * 100, 1)}%`, goal: `≥ ${GOAL * 100}%`, pass: bff / bare >= GOAL },
    ]);
  } finally {
    await closeBff();
    await closeBare();
    await closePool();
    await t.close(); // drops the database
  }
});
