/**
 * Helpers shared by the benchmarks (bench/*.ts): flags, load generators off the server's event
 * loop, percentiles, and the one summary format every bench prints — each figure, the ratio and
 * PASS/MISS against the issue's goal, with the machine and its load average at the time.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { productionNodeFlags } from '../server/src/test-support/child-bff';

/** `--name value` (or `--name=value`) from the command line, else the env variable (unless empty). */
export function textFlag(name: string, env?: string): string | undefined {
  const argv = process.argv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === `--${name}` && argv[i + 1] !== undefined) return argv[i + 1];
    if (argv[i]!.startsWith(`--${name}=`)) return argv[i]!.slice(name.length + 3);
  }
  const e = env ? process.env[env] : undefined;
  return e !== undefined && e !== '' ? e : undefined;
}

/** A number from textFlag(), else the default. */
export function flag(name: string, def: number, env?: string): number {
  const value = textFlag(name, env);
  return value === undefined ? def : Number(value);
}

export const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * Ratios of a run's rounds (or pairs of rounds) as "mean% ± standard error points (sd)": the
 * standard error (sd / √n) is how far the run's ratio may be from the code's by the machine's noise.
 */
export function meanWithError(ratios: number[]): string {
  const mean = ratios.reduce((a, x) => a + x, 0) / ratios.length;
  const sd = Math.sqrt(ratios.reduce((a, x) => a + (x - mean) ** 2, 0) / Math.max(1, ratios.length - 1));
  return `${fmt(mean * 100, 1)}% ± ${fmt((sd / Math.sqrt(ratios.length)) * 100, 1)} points (${fmt(sd * 100, 1)})`;
}
export const mb = (b: number) => `${Math.round(b / 1048576)} MB`;
/** the p-th percentile (0–100) of an ascending array */
export const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;

export function machine(): string {
  return `${os.cpus().length} cpus, node ${process.version}, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;
}

/** One line of a summary: what, the figure, and (for goals) the goal and whether it was met. */
export interface Line {
  what: string;
  value: string;
  goal?: string;
  pass?: boolean;
}

/** Print the summary table; returns whether every goal was met (the benches exit 0 either way). */
export function summary(title: string, lines: Line[]): boolean {
  console.log(`\n== ${title} (${machine()}, ${new Date().toISOString()})`);
  const w = Math.max(...lines.map((l) => l.what.length), 10);
  const v = Math.max(...lines.map((l) => l.value.length), 10);
  for (const l of lines) {
    const verdict = l.pass === undefined ? '' : l.pass ? 'PASS' : 'MISS';
    console.log(`${l.what.padEnd(w)}  ${l.value.padStart(v)}${l.goal ? `   goal ${l.goal}` : ''}${verdict ? `   ${verdict}` : ''}`);
  }
  const goals = lines.filter((l) => l.pass !== undefined);
  const ok = goals.every((l) => l.pass);
  console.log(`${goals.filter((l) => l.pass).length}/${goals.length} goals met`);
  return ok;
}

export interface PostRun {
  rate: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** CPU the load generator spent on the run, ms */
  cpuMs: number;
}

/**
 * POST the items from the load generator's process (bench/post-child.mjs); the rate is items / wall
 * time of the whole burst, `cpuMs` the generator's.
 */
export async function postAll(url: string, items: { body: string; headers: Record<string, string> }[], concurrency: number): Promise<PostRun> {
  const r = await loadGeneratorRun<{ ms: number; statuses: Record<string, number>; lat: number[]; cpuMs: number }>('post-child.mjs', {
    url,
    items,
    concurrency,
  });
  const lat = r.lat.sort((a, b) => a - b);
  return { rate: items.length / (r.ms / 1000), p50: pct(lat, 50), p99: pct(lat, 99), statuses: r.statuses, cpuMs: r.cpuMs };
}

/** One autocannon run in the load generator's process (bench/cannon-child.mjs). */
export interface Cannon {
  total: number;
  /** the run's own length (autocannon's), s: a short round's rate is total / seconds */
  seconds: number;
  non2xx: number;
  errors: number;
  /** every 2xx answer's latency, ms: pooled over rounds by `pooledP99` */
  latencies: number[];
}

const loadGenerators = new Map<string, ChildProcess>();

/**
 * One run in a load generator's process (bench/<script>: cannon-child.mjs, post-child.mjs): one child
 * per script for the whole bench, started on first use, ended with the bench (its IPC channel
 * closes). Runs are one at a time; the child answers each message with one object, `{error}` when
 * the run failed.
 */
async function loadGeneratorRun<T>(script: string, msg: object): Promise<T> {
  let child = loadGenerators.get(script);
  if (!child || child.exitCode !== null) {
    child = spawn(process.execPath, [path.join(__dirname, script)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    loadGenerators.set(script, child);
  }
  const running = child;
  running.send(msg);
  const answer = await new Promise<T & { error?: string }>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`the load generator ${script} exited (${code})`));
    running.once('exit', onExit);
    running.once('message', (m) => {
      running.off('exit', onExit);
      resolve(m as T & { error?: string });
    });
  });
  if (answer.error) throw new Error(`${script}: ${answer.error}`);
  return answer;
}

/** One autocannon run against `url`, in the load generator's process (bench/cannon-child.mjs). */
export function cannon(url: string, opts: { connections: number; seconds: number; headers?: Record<string, string> }): Promise<Cannon> {
  return loadGeneratorRun<Cannon>('cannon-child.mjs', { url, connections: opts.connections, seconds: opts.seconds, headers: opts.headers ?? {} });
}

/** Requests per second over these runs: their answers over their own time. */
export function rateOf(runs: Cannon[]): number {
  return runs.reduce((s, r) => s + r.total, 0) / runs.reduce((s, r) => s + r.seconds, 0);
}

/** The p99 of every answer of these rounds taken together (the whole measurement's, not one round's). */
export function pooledP99(runs: Cannon[]): number {
  const all = runs.flatMap((r) => r.latencies).sort((a, b) => a - b);
  return pct(all, 99);
}

/** main() of a bench: exit 0 when it ran (goals missed or not), 1 when it failed. */
export function run(main: () => Promise<unknown>): void {
  main().then(
    () => process.exit(0),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

/** A process's memory figure from the kernel (/proc/<pid>/status, in bytes; 0 when it is gone). */
function procStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The child's peak RSS so far, from the kernel (VmHWM): what a child that dies of its memory had
 * reached. Not resourceUsage().maxRSS: Linux carries ru_maxrss across exec, so a child spawned by a
 * big parent reports the parent's peak.
 */
export const vmHwm = (pid: number) => procStatus(pid, 'VmHWM');

/** A process's RSS now (VmRSS). */
export const procRssBytes = (pid: number) => procStatus(pid, 'VmRSS');

/** The newest modification time of the files under `dir` (ms). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** The compiled BFF's server/ directory: BENCH_BUILD, else dist/server/server, built first when older than the sources. */
export function compiledServer(): string {
  if (process.env.BENCH_BUILD) return path.resolve(process.env.BENCH_BUILD);
  const root = path.resolve(__dirname, '..');
  const main = path.join(root, 'dist', 'server', 'server', 'main.js');
  const built = fs.existsSync(main) ? fs.statSync(main).mtimeMs : 0;
  if (built < Math.max(newest(path.join(root, 'server', 'src')), newest(path.join(root, 'shared', 'src')))) {
    console.log('building the BFF (npm run build: the sources are newer than dist/server)…');
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
    if (r.status !== 0) throw new Error('npm run build failed');
  }
  return path.dirname(main);
}

/** CPU time (ms) a process has used so far: in all (user + system), and the system part (the kernel: socket writes, wake-ups). */
export interface CpuMs {
  ms: number;
  sysMs: number;
}

/** CPU time process `pid` has used so far, from /proc (0 when it is gone). */
export function procCpu(pid: number): CpuMs {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // utime and stime (fields 14 and 15 of stat; 12 and 13 after the name) in clock ticks of 10 ms
    return { ms: (Number(fields[11]) + Number(fields[12])) * 10, sysMs: Number(fields[12]) * 10 };
  } catch {
    return { ms: 0, sysMs: 0 };
  }
}

/** CPU time (ms, user + system) process `pid` has used so far (0 when it is gone). */
export function procCpuMs(pid: number): number {
  return procCpu(pid).ms;
}

/** CPU time this process has used so far, user and system read at one moment (worker threads included). */
export function ownCpu(): CpuMs {
  const u = process.cpuUsage();
  return { ms: (u.user + u.system) / 1000, sysMs: u.system / 1000 };
}

/** CPU time (ms, user + system) this process has used so far. */
export function ownCpuMs(): number {
  return ownCpu().ms;
}

/** CPU time (ms) the database server has used so far (MariaDB/MySQL on this machine), 0 when not found. */
export function dbCpuMs(): number {
  for (const name of ['mariadbd', 'mysqld']) {
    try {
      return procCpuMs(Number(execFileSync('pidof', ['-s', name], { encoding: 'utf8' }).trim()));
    } catch {
      // not this one
    }
  }
  return 0;
}

/** Send `msg` to a child process over IPC and resolve with its first answer of `type`. */
export function ask<T>(child: ChildProcess, msg: object, type: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const on = (m: any) => {
      if (m?.type !== type) return;
      child.off('message', on);
      child.off('exit', gone);
      resolve(m);
    };
    const gone = (code: number | null) => {
      child.off('message', on);
      reject(new Error(`child ${child.pid} exited (${code}) before answering ${type}`));
    };
    child.on('message', on);
    child.once('exit', gone);
    child.send(msg);
  });
}

/** A server a bench runs in a child process: the BFF (bench/bff-child.mjs) or a bare handler (bench/bare-child.mjs). */
export interface ChildServer {
  url: string;
  pid: number;
  /** a message to the child (bench/bff-child.mjs lists them; the bare handler takes none) and its answer of `type` */
  ask<T>(msg: object, type: string): Promise<T>;
  /** SIGTERM, then wait for the process to end (the BFF drains as main.js does) */
  close(): Promise<void>;
}

/**
 * The BFF as production runs it, on the bench's database: the build from compiledServer() under
 * plain `node` in a child process (bench/bff-child.mjs), so that the figures are the compiled code's,
 * not tsx's (which, among other things, resolves every run-time require() again: mysql2 requires its
 * promise wrapper on each TypeORM query).
 */
export async function builtBff(
  dbUrl: string,
  opts: { uploadDir: string; logLevel?: string; env?: Record<string, string>; build?: string },
): Promise<ChildServer> {
  // a build's server/ directory (bench/ab.ts compares several); by default this checkout's
  const build = opts.build ? path.resolve(opts.build) : compiledServer();
  return startChild('bff-child.mjs', 'the compiled BFF', {
    BENCH_BUILD: build,
    BENCH_DB_URL: dbUrl,
    BENCH_UPLOAD_DIR: opts.uploadDir,
    BENCH_LOG_LEVEL: opts.logLevel ?? 'silent',
    ...opts.env,
  });
}

/**
 * A bare handler in a process of its own (bench/bare-child.mjs lists the kinds), under the same node
 * flags as the BFF, so that the two sides of a ratio differ only by their code. Until 2026-11-30 the
 * bare handlers served from the bench's own process, beside the in-process test app and under tsx:
 * the bill list's ran some 6 % slower there, which the ratio credited to the BFF.
 */
export async function bareChild(
  opts:
    | { kind: 'rows'; uri: string; pool: number; sql: string; params: unknown[] }
    | { kind: 'notify'; uri: string; pool: number; pay: { appid: string; mchid: string; apiV3Key: string } },
): Promise<ChildServer> {
  const env = opts.kind === 'notify' ? { ...opts, build: compiledServer() } : opts;
  return startChild('bare-child.mjs', 'the bare handler', { BENCH_BARE: JSON.stringify(env) });
}

/**
 * One of the bench's servers (bench/<script>) under start:production's node flags in a child
 * process; it prints `READY {"url": …}` when it listens and ends on SIGTERM. BENCH_CPU_PROF=<dir>:
 * a V8 CPU profile of it, written when it closes.
 */
async function startChild(script: string, what: string, env: Record<string, string>): Promise<ChildServer> {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  // through sh: the child's descriptor limit raised to the hard limit first (bench:ws holds 10,000 sockets)
  const args = [...productionNodeFlags(), ...prof, path.join(__dirname, script)];
  const child: ChildProcess = spawn('/bin/sh', ['-c', 'ulimit -n $(ulimit -Hn) 2>/dev/null; exec "$@"', 'sh', process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    env: { ...process.env, NODE_OPTIONS: '', ...env },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d;
      const line = out.split('\n').find((l) => l.startsWith('READY '));
      if (line) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve((JSON.parse(line.slice('READY '.length)) as { url: string }).url);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code}) before listening: ${out.slice(-300)}`)));
  });
  return {
    url,
    pid: child.pid!,
    ask: <T>(msg: object, type: string) => ask<T>(child, msg, type),
    async close() {
      if (child.exitCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
