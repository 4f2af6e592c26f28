/**
 * The BFF as a separate process, started like `npm start` does (`tsx src/main.ts`: migrations,
 * demo seed), for tests that kill or signal it. The WeChat simulator runs in the test process so
 * that it outlives the BFF (and keeps retrying its notifications, as WeChat would).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config';
import { startSandbox } from '../sandbox';
import { createTestDatabase, type TestDatabase } from './db';
import { installedClockOffset } from './clock';

const SERVER_DIR = path.resolve(__dirname, '../..');

/** node's flags in `npm run start:production` (package.json): the build test and the benches start the compiled BFF with them. */
export function productionNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.join(SERVER_DIR, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  return pkg.scripts['start:production']!.split(/\s+/).filter((a) => a.startsWith('--'));
}

export interface ChildBffEnv {
  db: TestDatabase;
  sandbox: Awaited<ReturnType<typeof startSandbox>>;
  port: number;
  url: string;
  /** where SQLite lives when there is no MariaDB */
  sqlitePath: string;
  /** the last few KB the BFF printed */
  output(): string;
  /** start a BFF process; resolves when /readyz answers 200 (another instance: PORT in extraEnv) */
  start(extraEnv?: Record<string, string>): Promise<ChildProcess>;
  call(method: string, p: string, opts?: { token?: string; body?: unknown }): Promise<{ status: number; body: any }>;
  /** a resident logged in through the simulator */
  loginResident(user: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * A port for a BFF child process to listen on (for its life, across restarts on the same port),
 * picked at random below the kernel's ephemeral range (ip_local_port_range, 32768–60999 here) and
 * free when picked. A port of that range is given to every outgoing connection and every listen(0)
 * on the machine, so one found free there could be taken before the child listened on it, or
 * between two children on it (a host listening on such a port failed with EADDRINUSE in CI). Below
 * the range only an explicit pick takes a port.
 */
export async function freePort(): Promise<number> {
  const [lowest] = ephemeralPorts();
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FIRST_PICKED_PORT + Math.floor(Math.random() * (lowest - FIRST_PICKED_PORT));
    if (await canListen(port)) return port;
  }
  throw new Error(`freePort: no free port in ${FIRST_PICKED_PORT}–${lowest - 1}`);
}
/** Above the well-known services' ports (MariaDB 3306, Redis 6379, …). */
const FIRST_PICKED_PORT = 10_000;

/** The kernel's range for ports it picks itself (Linux; the IANA range elsewhere). */
export function ephemeralPorts(): [number, number] {
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low! > FIRST_PICKED_PORT + 1000 && high! >= low!) return [low!, high!];
  } catch {
    // not Linux
  }
  return [49152, 65535];
}

function canListen(port: number): Promise<boolean> {
  const s = net.createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * The environment of a BFF child process in sandbox mode with the demo seed: its own port, files
 * under `tmp`, and MariaDB when the tests have it (else SQLite at `sqlitePath`, default tmp/hb.sqlite).
 */
export function sandboxChildEnv(o: {
  base: NodeJS.ProcessEnv;
  port: number;
  tmp: string;
  db: TestDatabase;
  sqlitePath?: string;
  extra?: Record<string, string>;
}): NodeJS.ProcessEnv {
  return {
    ...o.base,
    NODE_ENV: 'production',
    HB_MODE: 'sandbox',
    HB_SEED_DEMO: '1',
    HOST: '127.0.0.1',
    PORT: String(o.port),
    LOG_LEVEL: 'info',
    FILES_DIR: path.join(o.tmp, 'files'),
    ...(o.db.url ? { DATABASE_URL: o.db.url } : { SQLITE_PATH: o.sqlitePath ?? path.join(o.tmp, 'hb.sqlite') }),
    ...o.extra,
  };
}

/**
 * Resolves when `url`/readyz answers 200 (and `listening()` holds); throws with the child's output
 * when it exits first or is not ready in 180 s (tsx compiles the server on start: ~3 s on a quiet
 * machine, a minute or more on a very busy one).
 */
export async function untilReady(child: ChildProcess, url: string, output: () => string, listening: () => boolean = () => true): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode) throw new Error(`BFF exited (${child.exitCode ?? child.signalCode}):\n${output()}`);
    const ok =
      listening() &&
      (await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      ));
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`BFF not ready in 180 s:\n${output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function childBffEnv(sandboxOpts: { notifyRetryScheduleMs?: number[]; instantBills?: boolean } = {}): Promise<ChildBffEnv> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-child-'));
  const db = await createTestDatabase();
  const c = loadConfig({});
  let sandbox: Awaited<ReturnType<typeof startSandbox>> | undefined;
  let port: number;
  try {
    sandbox = await startSandbox({ appid: c.WECHAT_APPID, secret: c.WECHAT_SECRET, mchid: c.WXPAY_MCHID, apiV3Key: c.WXPAY_APIV3_KEY, ...sandboxOpts });
    port = await freePort();
  } catch (err) {
    // no env to close: its simulator, database and folder would outlive the failed run
    await sandbox?.close();
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${port}`;
  const sqlitePath = path.join(tmp, 'hb.sqlite');
  let output = '';
  const children = new Set<ChildProcess>();

  const call: ChildBffEnv['call'] = async (method, p, o = {}) => {
    const res = await fetch(url + p, {
      method,
      headers: { 'Content-Type': 'application/json', ...(o.token ? { Authorization: `Bearer ${o.token}` } : {}) },
      body: o.body === undefined ? undefined : JSON.stringify(o.body),
    });
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };

  return {
    db,
    sandbox,
    port,
    url,
    sqlitePath,
    output: () => output,
    async start(extraEnv = {}) {
      // tsx as a loader in this very process (its CLI would run the server in a grandchild that
      // a SIGKILL of the child leaves running)
      const child = spawn(process.execPath, ['--import', 'tsx', '--import', './src/test-support/clock-preload.ts', 'src/main.ts'], {
        cwd: SERVER_DIR,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: sandboxChildEnv({
          base: process.env,
          port,
          tmp,
          db,
          sqlitePath,
          extra: {
            WECHAT_API_BASE: sandbox.url,
            WXPAY_API_BASE: sandbox.url,
            // the child's clock is the test's clock (HB_TEST_NOW, keepOneChinaDay)
            HB_TEST_CLOCK_OFFSET: String(installedClockOffset()),
            ...extraEnv,
          },
        }),
      });
      children.add(child);
      child.once('exit', () => children.delete(child));
      const keep = (d: Buffer) => (output = (output + d).slice(-8000));
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      // ready means this child said it listens: another process that took the port meanwhile
      // (this child then exits with EADDRINUSE) may answer /readyz too
      let own = '';
      let listening = false;
      child.stdout!.on('data', (d: Buffer) => {
        own = (own + d).slice(-4000);
        listening ||= own.includes('"msg":"Heat Butler BFF listening"');
      });
      await untilReady(
        child,
        extraEnv.PORT ? `http://127.0.0.1:${extraEnv.PORT}` : url,
        () => output,
        () => listening,
      );
      return child;
    },
    call,
    async loginResident(user) {
      const dev: any = await (
        await fetch(`${sandbox.url}/device/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user }) })
      ).json();
      const res = await call('POST', '/api/v1/auth/wechat', { body: { code: dev.code } });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body.token;
    },
    async close() {
      for (const child of children) {
        child.kill('SIGKILL');
        await exited(child);
      }
      await sandbox.close();
      await db.drop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Resolves with the exit code (or signal) of a child process. */
export function exited(child: ChildProcess): Promise<number | string> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  if (child.signalCode) return Promise.resolve(child.signalCode);
  return new Promise((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
}
