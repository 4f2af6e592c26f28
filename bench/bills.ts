/**
 * Resident bill list: GET /api/v1/bills through the BFF as a ratio to a bare Koa + mysql2 handler
 * in the same run (autocannon, CONNECTIONS connections).
 *
 *   npm run bench:bills [-- --seconds 2 --rounds 40 --connections 50 --pairs 2 --warmup 8]
 *
 * Needs MariaDB (TEST_DATABASE_URL, default mariadb://root@127.0.0.1:3306; a database hb_t_<random>
 * is created and dropped). A resident with 3 bound demo accounts, 3 seasons of bills each.
 * - BFF: the real route (session token check, zod, TypeORM, the bill views with quotes, address),
 *   compiled as production runs it (`npm run build`, plain node, its own process: bench/bff-child.mjs;
 *   built first when the sources are newer than dist/server).
 * - bare: the same SQL query for the same rows and columns (the figures of the bills of the
 *   resident's bound accounts, without their lines, with season, account, unit and building), run
 *   as the BFF runs it (a statement prepared per pooled connection, mysql2's execute through its
 *   callback API), same database and pool size, no auth, no view-building, no sorting; in a
 *   process of its own under the same node flags as the BFF's (bench/bare-child.mjs; until
 *   2026-11-30 it ran in this process, beside the in-process test app and under tsx).
 * Also printed: CPU per request of the serving process and of the database server (steadier than
 * req/s on a busy machine).
 * Rounds alternate bare, BFF, BFF, bare, … (ABBA), many and short: 40 rounds of 2 s a side by
 * default, one load generator process for all of them (bench/cannon-child.mjs). On a 2-core VM the
 * same build's CPU per request moved by up to 1.7× within a few minutes (a bare handler at 206 µs
 * and 382 µs of node CPU, 2026-11-30); with 4 rounds of 10 s, a round of one side could fall in a
 * slow minute and the other's not (the same code gave 56–108 %). Short alternating rounds put both
 * sides in the same minutes. req/s are totals over the rounds (answers over the runs' own time);
 * p99 is over every answer of a side's rounds pooled; the spread of the per-pair ratios is printed,
 * and their mean with its standard error: how far the run's ratio may be from the code's by the
 * machine's noise alone. Two rounds of 2 s side by side differ by 7–12 points of the ratio on these
 * VMs (sd of the per-pair ratios, 2026-12-01), so 20 rounds left a standard error of 1.5–2.7
 * points, as much as the BFF's margin over the goal: the same build measured 84.9–91.6 % in six
 * runs. 40 rounds (some 3.5 minutes) bring it to ~1.1–1.9.
 * Several processes a side (PAIRS, default 2), the rounds spread over them in turn: the same build
 * in fresh processes differs by itself, and steadily, over the same minutes (three BFF processes of
 * one build at 281, 289 and 292 µs of node CPU a request, three bare handlers at 205, 218 and 219 µs,
 * 12 interleaved rounds each, 2026-11-30), so one process a side put a few points of luck into the
 * ratio. Each process's rate is printed. Each is warmed up for WARMUP_SECONDS first (see below).
 * Goals of issue 18 (2 cores): BFF ≥ 85% of bare, BFF p99 ≤ 1.2 × bare p99.
 */

process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { mysqlUrl } from '../server/src/platform/db/data-source';
import { BARE_BILLS_SQL, billListSetup } from './bill-list';
import { pct, bareChild, builtBff, cannon, pooledP99, rateOf, dbCpuMs, flag, fmt, meanWithError, procCpu, run, summary, type Cannon } from './lib';

const SECONDS = flag('seconds', 2, 'BENCH_SECONDS');
const ROUNDS = flag('rounds', 40);
const CONNECTIONS = flag('connections', 50);
const PAIRS = flag('pairs', 2);
const WARMUP_SECONDS = flag('warmup', 8);

/** A measured process: the URL the load goes to, and its pid (CPU per request). */
type Server = { url: string; pid: number };
const GOAL_RATE = 0.85;
const GOAL_P99 = 1.2;

run(async () => {
  const { t, token, residentId } = await billListSetup();
  const children: { close(): Promise<void> }[] = [];
  try {
    const { config } = t;
    // the measured BFF: the production build under plain node, in processes of their own, on this database
    console.log(`starting ${PAIRS} compiled BFF processes (npm run build, node) on the same database…`);
    const bffs: Server[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const child = await builtBff(t.db.url!, { uploadDir: config.UPLOAD_DIR });
      children.push(child);
      bffs.push({ url: `${child.url}/api/v1/bills`, pid: child.pid });
    }
    const listRes = await fetch(bffs[0]!.url, { headers: { authorization: `Bearer ${token}` } });
    if (listRes.status !== 200) throw new Error(`GET /bills: ${listRes.status}`);
    const list = { body: (await listRes.json()) as { items: unknown[] } };

    // in a process of its own under the BFF's node flags (bench/bare-child.mjs), through mysql2's
    // callback API, as readRows: its promise API captures a stack trace on every call (for async
    // stack traces), some 25 µs of node CPU a request the BFF doesn't spend
    const bares: Server[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const child = await bareChild({ kind: 'rows', uri: mysqlUrl(t.db.url!), pool: config.DB_POOL_SIZE, sql: BARE_BILLS_SQL, params: [residentId] });
      children.push(child);
      bares.push({ url: child.url, pid: child.pid });
    }
    const bare = JSON.parse(await (await fetch(bares[0]!.url)).text());
    console.log(
      `BFF: ${list.body.items.length} bills, ${JSON.stringify(list.body).length} bytes; bare: ${bare.items.length} rows, ${JSON.stringify(bare).length} bytes`,
    );

    const bffOpts = { connections: CONNECTIONS, seconds: SECONDS, headers: { authorization: `Bearer ${token}` } };
    const bareOpts = { connections: CONNECTIONS, seconds: SECONDS };
    const sides = { bff: bffs, bare: bares };
    const optsOf = { bff: bffOpts, bare: bareOpts };
    console.log(
      `warm-up ${WARMUP_SECONDS} s each, then ${ROUNDS} rounds of (bare, BFF) alternating over ${PAIRS} pairs of processes, ${CONNECTIONS} connections × ${SECONDS} s…`,
    );
    // warm-up: the JIT of a fresh process was still optimizing ~65 functions in its second 10 s of
    // load (--trace-opt, 2026-11-30), and a few in the third
    for (let i = 0; i < PAIRS; i++) {
      await cannon(bares[i]!.url, { ...bareOpts, seconds: WARMUP_SECONDS });
      await cannon(bffs[i]!.url, { ...bffOpts, seconds: WARMUP_SECONDS });
    }
    type Side = 'bff' | 'bare';
    // each process's runs (runs[side][pair]), and the rounds in order (rounds[side][round])
    const runs: Record<Side, Cannon[][]> = { bff: bffs.map(() => []), bare: bares.map(() => []) };
    const rounds: Record<Side, Cannon[]> = { bff: [], bare: [] };
    // CPU spent serving (the BFF's process or the bare handler's) and by the database server, per
    // request: steadier than req/s on a busy machine
    const cpu = { bff: { node: 0, db: 0, sys: 0 }, bare: { node: 0, db: 0, sys: 0 } };
    for (let r = 0; r < ROUNDS; r++) {
      // the pairs in turn; ABBA within each pair: bare first in its even turns, BFF first in odd ones
      const pair = r % PAIRS;
      const order = Math.floor(r / PAIRS) % 2 === 0 ? (['bare', 'bff'] as const) : (['bff', 'bare'] as const);
      for (const which of order) {
        const server = sides[which][pair]!;
        const [node0, db0] = [procCpu(server.pid), dbCpuMs()];
        const run = await cannon(server.url, optsOf[which]);
        const node1 = procCpu(server.pid);
        runs[which][pair]!.push(run);
        rounds[which].push(run);
        cpu[which].node += node1.ms - node0.ms;
        cpu[which].sys += node1.sysMs - node0.sysMs;
        cpu[which].db += dbCpuMs() - db0;
      }
    }
    const perRequest = (which: Side) => {
      const n = rounds[which].reduce((s, r) => s + r.total, 0);
      return { node: cpu[which].node / n, db: cpu[which].db / n, sys: cpu[which].sys / n };
    };
    const [cpuBff, cpuBare] = [perRequest('bff'), perRequest('bare')];
    const cpuLine = (c: { node: number; db: number; sys: number }) =>
      `${fmt(c.node * 1000)} µs node (${fmt(c.sys * 1000)} of it system) + ${fmt(c.db * 1000)} µs db = ${fmt((c.node + c.db) * 1000)} µs`;
    const bffRps = rateOf(rounds.bff);
    const bareRps = rateOf(rounds.bare);
    // each round's rate, each process's, and the spread of the rounds' BFF / bare ratios (round i of each side)
    const each = (rs: Cannon[]) => rs.map((r) => fmt(rateOf([r]))).join(' ');
    const processes = (which: Side) => runs[which].map((rs) => fmt(rateOf(rs))).join(', ');
    const pairs = rounds.bff.map((r, i) => rateOf([r]) / rateOf([rounds.bare[i]!])).sort((a, b) => a - b);
    // the latency's shape: a tail heavier than the median (p99 ratio above the p50 ratio) is the
    // BFF's own stalls, not its slower serving (at 85 % of the rate, every percentile is ~1.18×)
    const QUANTILES = [50, 90, 99, 99.9];
    const quantiles = (rs: Cannon[]) => {
      const all = rs.flatMap((r) => r.latencies).sort((a, b) => a - b);
      return QUANTILES.map((q) => pct(all, q));
    };
    const [qBff, qBare] = [quantiles(rounds.bff), quantiles(rounds.bare)];
    // the goal's p99: over every answer of a side's rounds, pooled (as pooledP99)
    const [bffP99, bareP99] = [qBff[QUANTILES.indexOf(99)]!, qBare[QUANTILES.indexOf(99)]!];
    const p99Pairs = rounds.bff.map((r, i) => pooledP99([r]) / pooledP99([rounds.bare[i]!])).sort((a, b) => a - b);
    const spread = (xs: number[], f: (x: number) => string) => [xs[0]!, xs[xs.length >> 1]!, xs[xs.length - 1]!].map(f).join(', ');
    summary(`resident bill list (${ROUNDS} rounds × ${SECONDS} s over ${PAIRS} pairs of processes, ${CONNECTIONS} connections)`, [
      { what: 'BFF GET /api/v1/bills req/s', value: fmt(bffRps) },
      { what: '  rounds (req/s)', value: each(rounds.bff) },
      { what: '  each process (req/s)', value: processes('bff') },
      { what: '  non-2xx / errors', value: `${rounds.bff.reduce((s, r) => s + r.non2xx, 0)} / ${rounds.bff.reduce((s, r) => s + r.errors, 0)}` },
      { what: 'bare Koa + mysql2 req/s', value: fmt(bareRps) },
      { what: '  rounds (req/s)', value: each(rounds.bare) },
      { what: '  each process (req/s)', value: processes('bare') },
      { what: 'BFF / bare per pair of rounds: min, median, max', value: spread(pairs, (x) => `${fmt(x * 100, 1)}%`) },
      {
        what: '  mean ± standard error (sd of a pair)',
        value: meanWithError(pairs),
      },
      {
        what: `latency p${QUANTILES.join(' / p')}, ms: BFF; bare`,
        value: `${qBff.map((x) => fmt(x, 1)).join(' / ')}; ${qBare.map((x) => fmt(x, 1)).join(' / ')}`,
      },
      { what: '  BFF / bare', value: qBff.map((x, i) => `${fmt(x / qBare[i]!, 2)}×`).join(' / ') },
      { what: 'p99 BFF / bare per pair of rounds: min, median, max', value: spread(p99Pairs, (x) => `${fmt(x, 2)}×`) },
      { what: 'CPU per request: BFF', value: cpuLine(cpuBff) },
      { what: 'CPU per request: bare', value: cpuLine(cpuBare) },
      { what: 'CPU per request bare / BFF', value: `${fmt(((cpuBare.node + cpuBare.db) / (cpuBff.node + cpuBff.db)) * 100, 1)}%` },
      { what: 'BFF / bare req/s', value: `${fmt((bffRps / bareRps) * 100, 1)}%`, goal: `≥ ${GOAL_RATE * 100}%`, pass: bffRps / bareRps >= GOAL_RATE },
      {
        what: 'p99 of all rounds BFF / bare',
        value: `${fmt(bffP99, 1)} / ${fmt(bareP99, 1)} ms = ${fmt(bffP99 / bareP99, 2)}×`,
        goal: `≤ ${GOAL_P99}×`,
        pass: bffP99 <= GOAL_P99 * bareP99,
      },
    ]);
  } finally {
    for (const child of children) await child.close();
    await t.close();
  }
});
