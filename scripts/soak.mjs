#!/usr/bin/env node
// `npm run test:soak -- [N] [--burners K] [--awkward]`: run the whole vitest suite N times in a row
// (default 5) on MariaDB while K neighbour processes burn CPU (default 1: half of a 2-core
// machine), and print every test that failed in any run. With --awkward, run i sets the test
// clock (HB_TEST_NOW) to the i-th awkward day below (the machine's own clock first). Not part of
// `npm test`. Exit code 1 if anything ever failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureBrowser } from './test-env.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const args = process.argv.slice(2);
const runs = Number(args.find((a) => /^\d+$/.test(a)) ?? 5);
const burnersAt = args.indexOf('--burners');
const burners = burnersAt >= 0 ? Number(args[burnersAt + 1]) : 1;
const awkward = args.includes('--awkward');
const extra = args.filter((a, i) => !/^\d+$/.test(a) && a !== '--burners' && a !== '--awkward' && (burnersAt < 0 || i !== burnersAt + 1));

/** Days a date-dependent suite trips over (instants in UTC; China is UTC+8). */
export const AWKWARD_DAYS = [
  { name: "the machine's clock", at: undefined },
  { name: 'Sept 20 23:59 China time (the stop/resume deadline)', at: '2026-09-20T15:59:00Z' },
  { name: 'Dec 31 23:50 China time (the due date, the year turns)', at: '2026-12-31T15:50:00Z' },
  { name: 'Feb 29 of a leap year', at: '2028-02-29T04:00:00Z' },
  { name: 'the first heating day, Nov 1 00:00:30 China time', at: '2026-10-31T16:00:30Z' },
];

const env = { ...process.env, TEST_DATABASE_URL: process.env.TEST_DATABASE_URL ?? 'mariadb://root@127.0.0.1:3306/test' };
// as in CI (.ci/run): the Redis fan-out tests run when a Redis answers on the usual port
if (!env.TEST_REDIS_URL && (await redisAnswers('127.0.0.1', 6379))) env.TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A Redis PING on host:port, answered within a second. */
function redisAnswers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}
if (!ensureBrowser()) process.exit(1);

// the busy neighbour: K processes spinning until we stop them
const burn = 'const end = Date.now() + 6 * 3600e3; let x = 0; while (Date.now() < end) { for (let i = 0; i < 1e6; i++) x += Math.sqrt(i); }';
const neighbours = Array.from({ length: burners }, () => spawn(process.execPath, ['-e', burn], { stdio: 'ignore' }));
const stopNeighbours = () => neighbours.forEach((p) => p.kill('SIGKILL'));
process.on('exit', stopNeighbours);
/** the vitest run in progress, stopped with the soak */
let current;
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`\n${sig}: stopping the run in progress and the soak`);
    current?.kill('SIGTERM');
    if (!current) process.exit(130);
  });

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-soak-'));
/** test full name → runs it failed in, with the first error line */
const failures = new Map();
const summary = [];
console.log(
  `Soak: ${runs} runs of the whole suite on ${env.TEST_DATABASE_URL}${env.TEST_REDIS_URL ? ` and ${env.TEST_REDIS_URL}` : ' (no Redis: its tests skip)'}, ${burners} CPU-burning neighbour(s), ${os.cpus().length} cores`,
);
for (let run = 1; run <= runs; run++) {
  const report = path.join(out, `run-${run}.json`);
  const started = Date.now();
  const day = awkward ? AWKWARD_DAYS[(run - 1) % AWKWARD_DAYS.length] : undefined;
  const runEnv = { ...env };
  if (day?.at) runEnv.HB_TEST_NOW = day.at;
  if (day) console.log(`\nrun ${run}: test clock = ${day.name}${day.at ? ` (HB_TEST_NOW=${day.at})` : ''}`);
  // spawned asynchronously so a signal to the soak stops the run in progress and the soak itself
  // (with spawnSync the handler could not run until the child ended, and the next run started)
  const child = spawn('npx', ['vitest', 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${report}`, ...extra], {
    env: runEnv,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  current = child;
  const r = await new Promise((resolve) => child.on('close', (status) => resolve({ status })));
  current = undefined;
  if (stopping) break;
  const seconds = Math.round((Date.now() - started) / 1000);
  let passed = 0;
  let failed = 0;
  if (fs.existsSync(report)) {
    const json = JSON.parse(fs.readFileSync(report, 'utf8'));
    for (const file of json.testResults ?? []) {
      const rel = path.relative(root, file.name);
      for (const t of file.assertionResults ?? []) {
        if (t.status === 'passed') passed++;
        else if (t.status === 'failed') {
          failed++;
          const key = `${rel} › ${t.fullName}`;
          const seen = failures.get(key) ?? { runs: [], message: String(t.failureMessages?.[0] ?? '').split('\n')[0] };
          seen.runs.push(run);
          failures.set(key, seen);
        }
      }
      // a file that failed before any test ran (hook or import error)
      if (file.status === 'failed' && !(file.assertionResults ?? []).some((t) => t.status === 'failed')) {
        failed++;
        const key = `${rel} › (file: ${String(file.message ?? '').split('\n')[0]})`;
        const seen = failures.get(key) ?? { runs: [], message: String(file.message ?? '').split('\n')[0] };
        seen.runs.push(run);
        failures.set(key, seen);
      }
    }
  } else {
    failed++;
    failures.set(`(run ${run}: vitest wrote no report, exit ${r.status})`, { runs: [run], message: '' });
  }
  summary.push({ run, seconds, passed, failed, exit: r.status, day: day?.name });
  console.log(`\nrun ${run}/${runs}: ${passed} passed, ${failed} failed in ${seconds} s (exit ${r.status})`);
}
stopNeighbours();
if (stopping) {
  for (const s of summary) console.log(`run ${s.run}: ${s.passed} passed, ${s.failed} failed, ${s.seconds} s${s.day ? ` — ${s.day}` : ''}`);
  console.log('stopped before the last run: no verdict');
  process.exit(130);
}

console.log('\n== soak summary ==');
for (const s of summary) console.log(`run ${s.run}: ${s.passed} passed, ${s.failed} failed, ${s.seconds} s${s.day ? ` — ${s.day}` : ''}`);
if (!failures.size) {
  console.log(`\n0 tests failed in ${runs} consecutive runs under load.`);
  process.exit(0);
}
console.log(`\n${failures.size} test(s) failed at least once:`);
for (const [name, f] of failures) console.log(`- ${name}\n    failed in run(s) ${f.runs.join(', ')}: ${f.message}`);
process.exit(1);
