/**
 * Compiled builds of the BFF against each other on the resident bill list, each as a ratio to the
 * bare handler in the same rounds: how a change to the request path is measured (every gain of
 * bench/RESULTS.md's 2026-11-30 sessions was found this way; one bench:bills run moves by ±2 points
 * on its own, an A/B of the same rounds by much less).
 *
 *   npm run build && cp -r dist/server dist/ab-before     (the parent commit, or the code as it was)
 *   …change the code…
 *   npm run build && cp -r dist/server dist/ab-after
 *   npm run bench:ab -- --builds dist/ab-before,dist/ab-after [--procs 2 --rounds 10 --seconds 3]
 *
 * Each build (a copy of dist/server) runs in PROCS processes of its own under plain node, beside
 * PROCS bare handlers (bench/bare-child.mjs, the same query as bench/bills.ts), all on the same
 * database; each is warmed up, then loaded in turn, ROUNDS times (the order reversed every other
 * round), CONNECTIONS connections for SECONDS each. Printed per build: req/s, the ratio to the bare
 * handlers', node and database CPU a request, and each process's rate (a process keeps its luck for
 * its life: compare builds over several). More than ~5 processes need MariaDB's max_connections
 * raised (each holds DB_POOL_SIZE connections).
 */

process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import path from 'node:path';
import { mysqlUrl } from '../server/src/platform/db/data-source';
import { BARE_BILLS_SQL, billListSetup } from './bill-list';
import { bareChild, builtBff, cannon, dbCpuMs, flag, fmt, machine, procCpu, rateOf, run, textFlag, type Cannon } from './lib';

const PROCS = flag('procs', 2);
const ROUNDS = flag('rounds', 10);
const SECONDS = flag('seconds', 3);
const CONNECTIONS = flag('connections', 50);
const WARMUP_SECONDS = flag('warmup', 8);

/** --builds a,b: each a copy of dist/server (its server/ directory is what runs) */
function builds(): string[] {
  const value = textFlag('builds');
  if (!value) throw new Error('bench:ab needs --builds <dir>,<dir>… (copies of dist/server: see bench/ab.ts)');
  return value.split(',').map((dir) => path.join(path.resolve(dir), 'server'));
}

type Measured = { build: string; url: string; pid: number; headers?: Record<string, string>; runs: Cannon[]; nodeMs: number; dbMs: number };

run(async () => {
  const dirs = builds();
  const { t, token, residentId } = await billListSetup();
  const children: { close(): Promise<void> }[] = [];
  try {
    const procs: Measured[] = [];
    console.log(`starting ${PROCS} process(es) of each of ${dirs.length} builds and ${PROCS} bare handler(s)…`);
    for (let i = 0; i < PROCS; i++) {
      for (const dir of dirs) {
        const child = await builtBff(t.db.url!, { uploadDir: t.config.UPLOAD_DIR, build: dir });
        children.push(child);
        procs.push({
          build: path.relative(process.cwd(), path.dirname(dir)),
          url: `${child.url}/api/v1/bills`,
          pid: child.pid,
          headers: { authorization: `Bearer ${token}` },
          runs: [],
          nodeMs: 0,
          dbMs: 0,
        });
      }
      const bare = await bareChild({ kind: 'rows', uri: mysqlUrl(t.db.url!), pool: t.config.DB_POOL_SIZE, sql: BARE_BILLS_SQL, params: [residentId] });
      children.push(bare);
      procs.push({ build: 'bare', url: bare.url, pid: bare.pid, runs: [], nodeMs: 0, dbMs: 0 });
    }
    for (const p of procs) {
      const first = await fetch(p.url, { headers: p.headers });
      if (first.status !== 200) throw new Error(`${p.build}: GET /bills ${first.status}`);
      await cannon(p.url, { connections: CONNECTIONS, seconds: WARMUP_SECONDS, headers: p.headers });
    }
    console.log(`${ROUNDS} rounds of ${procs.length} processes in turn, ${CONNECTIONS} connections × ${SECONDS} s…`);
    for (let r = 0; r < ROUNDS; r++) {
      for (const p of r % 2 ? [...procs].reverse() : procs) {
        const [node0, db0] = [procCpu(p.pid).ms, dbCpuMs()];
        p.runs.push(await cannon(p.url, { connections: CONNECTIONS, seconds: SECONDS, headers: p.headers }));
        p.nodeMs += procCpu(p.pid).ms - node0;
        p.dbMs += dbCpuMs() - db0;
      }
    }
    const bareRate = rateOf(procs.filter((p) => p.build === 'bare').flatMap((p) => p.runs));
    console.log(`\n== bill list A/B (${machine()})`);
    for (const build of [...new Set(procs.map((p) => p.build))]) {
      const own = procs.filter((p) => p.build === build);
      const rate = rateOf(own.flatMap((p) => p.runs));
      const answers = own.reduce((s, p) => s + p.runs.reduce((a, x) => a + x.total, 0), 0);
      const perRequest = (ms: number) => fmt((ms / answers) * 1000);
      const non2xx = own.reduce((s, p) => s + p.runs.reduce((a, x) => a + x.non2xx + x.errors, 0), 0);
      console.log(
        `${build.padEnd(24)} ${fmt(rate).padStart(7)}/s ${`${fmt((rate / bareRate) * 100, 1)}%`.padStart(7)} of bare   ` +
          `node ${perRequest(own.reduce((s, p) => s + p.nodeMs, 0))} µs + db ${perRequest(own.reduce((s, p) => s + p.dbMs, 0))} µs a request   ` +
          `processes ${own.map((p) => fmt(rateOf(p.runs))).join(', ')}/s${non2xx ? `   non-2xx or errors ${non2xx}` : ''}`,
      );
    }
  } finally {
    for (const child of children) await child.close();
    await t.close();
  }
});
