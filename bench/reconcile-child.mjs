// The timed part of bench/reconcile.ts, in its own process under plain `node`: the BFF as production
// runs it, compiled by `npm run build` (no tsx, no TypeScript in memory). ReconciliationService.run()
// of the bill date; its figures go back to the parent as one `RESULT {json}` line on stdout.
// Environment (set by the parent): BENCH_BUILD (the build's server/ directory), BENCH_DB_URL or
// BENCH_SQLITE, BENCH_FILE (the prepared bill), BENCH_TMP (RECON_BILL_DIR), BENCH_BILL_DATE.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const build = process.env.BENCH_BUILD;
const require = createRequire(path.join(build, 'main.js'));
require('reflect-metadata');
const { createDataSource } = require('./db.js');
const { loadConfig } = require('./config.js');
const { createLogger } = require('./platform/logger.js');
const { createServices } = require('./app.js');
const { createClients } = require('./host.js');

/** VmHWM of /proc/self/status, as bench/lib.ts vmHwm() (a TypeScript module this process cannot load) */
function peakRss() {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

const billDate = process.env.BENCH_BILL_DATE;
const url = process.env.BENCH_DB_URL || undefined;
const file = process.env.BENCH_FILE;
process.env.RECON_BILL_DIR = process.env.BENCH_TMP;
const config = loadConfig({ ...process.env, HB_MODE: 'sandbox', LOG_LEVEL: 'warn' }, url ? { DATABASE_URL: url } : { SQLITE_PATH: process.env.BENCH_SQLITE });
const ds = createDataSource({ url, sqlitePath: url ? undefined : process.env.BENCH_SQLITE, poolSize: config.DB_POOL_SIZE });
await ds.initialize();
const log = createLogger('warn');
const clients = createClients(config, undefined, undefined, ds);
// WeChat's trade-bill download: a copy of the prepared file, with its SHA1 (the rest of PayClient is the real one)
const pay = {
  ...clients.pay,
  async downloadTradeBill({ toFile }) {
    await fs.promises.copyFile(file, toFile);
    const hash = crypto.createHash('sha1');
    for await (const c of fs.createReadStream(toFile)) hash.update(c);
    return { hashValue: hash.digest('hex'), bytes: fs.statSync(toFile).size };
  },
};
const services = createServices({ config, ds, log, clock: () => new Date(), ...clients, pay });
const rssBefore = process.memoryUsage().rss;
let sampled = rssBefore;
const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage().rss)), 20);
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const day = await services.reconciliation.run(billDate, { now: new Date(Date.parse(`${billDate}T12:00:00+08:00`) + 86_400_000) });
const secs = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
clearInterval(sampler);
sampled = Math.max(sampled, process.memoryUsage().rss);
const [{ n }] = await ds.query('SELECT COUNT(*) AS n FROM recon_discrepancy');
const result = {
  secs,
  cpuSecs: (cpu.user + cpu.system) / 1e6,
  sysSecs: cpu.system / 1e6,
  peakRss: sampled,
  maxRss: peakRss(),
  rssBefore,
  matched: Number(day.classes?.matched ?? day.day?.classes?.matched ?? 0),
  discrepancies: Number(n),
  status: String(day.status ?? day.day?.status ?? '?'),
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
await ds.destroy();
