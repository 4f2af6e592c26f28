/**
 * The production build: `npm run build` (scripts/build.mjs) compiles shared and server to
 * JavaScript with source maps, and the result starts with plain `node` — no tsx, no TypeScript,
 * and only the packages in the `dependencies` of server/ and shared/: the child sees a
 * node_modules holding just those (npm's own list of the production tree), and runs with
 * --preserve-symlinks so that even the dependencies' own requires resolve there.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from './test-support/db';
import { exited, freePort, productionNodeFlags, sandboxChildEnv, untilReady } from './test-support/child-bff';

const ROOT = path.resolve(__dirname, '../..');
let tmp = '';
let child: ChildProcess | null = null;
let db: TestDatabase | null = null;

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGKILL');
    await exited(child);
  }
  await db?.drop();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** The production dependency tree as npm lists it: the top-level package folders. */
function productionPackages(): string[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable', '-w', 'server', '-w', 'shared'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const top = path.join(ROOT, 'node_modules') + path.sep;
  const names = new Set<string>();
  for (const line of out.split('\n')) {
    if (!line.startsWith(top)) continue;
    const rel = line.slice(top.length).split(path.sep);
    const name = rel[0]!.startsWith('@') ? `${rel[0]}/${rel[1]}` : rel[0]!;
    if (rel.length === (name.includes('/') ? 2 : 1) && !name.startsWith('@heat-butler/')) names.add(name);
  }
  return [...names];
}

it('npm run build compiles to JS that starts with plain node on the production dependencies only', async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-build-'));
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build.mjs'), '--out', tmp], { cwd: ROOT, stdio: 'pipe' });
  const main = path.join(tmp, 'server', 'main.js');
  expect(fs.existsSync(main)).toBe(true);
  expect(fs.existsSync(main + '.map')).toBe(true);
  expect(fs.existsSync(path.join(tmp, 'node_modules', '@heat-butler', 'shared', 'index.js'))).toBe(true);
  // no TypeScript in the output (tests and test-support left out)
  const files = fs.readdirSync(path.join(tmp, 'server'), { recursive: true }).map(String);
  expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  expect(files.some((f) => f.includes('test-support') || f.endsWith('.test.js'))).toBe(false);

  // stack traces point at the TypeScript sources (--enable-source-maps)
  const trace = execFileSync(
    process.execPath,
    [
      '--enable-source-maps',
      '-e',
      `try { require(${JSON.stringify(path.join(tmp, 'server', 'config.js'))}).loadConfig({ PORT: 'x' }) } catch (e) { console.log(e.stack) }`,
    ],
    { cwd: tmp, encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: path.join(ROOT, 'node_modules') } },
  );
  expect(trace).toContain('Invalid configuration');
  expect(trace).toMatch(/server[/\\]src[/\\]config\.ts:\d+:\d+/);

  // node_modules = the built shared package + the production packages, nothing else
  const pkgs = productionPackages();
  expect(pkgs).toContain('koa');
  expect(pkgs).toContain('prom-client');
  expect(pkgs).not.toContain('tsx');
  expect(pkgs).not.toContain('typescript');
  for (const name of pkgs) {
    const link = path.join(tmp, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), link, 'dir');
  }

  db = await createTestDatabase();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const { NODE_OPTIONS: _drop, ...env } = process.env;
  // with start:production's node flags (package.json): one this node refuses fails here
  const flags = productionNodeFlags();
  expect(flags).toContain('--enable-source-maps');
  child = spawn(process.execPath, [...flags, '--preserve-symlinks', main], {
    cwd: tmp,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: sandboxChildEnv({ base: env, port, tmp, db, extra: { UPLOAD_DIR: path.join(tmp, 'uploads') } }),
  });
  const keep = (d: Buffer) => (output = (output + d).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await untilReady(child, url, () => output);
  // one API call through the whole stack: a WeChat login (sandbox simulator) and a resident's accounts
  const dev: any = await (
    await fetch(`${url}/sandbox/device/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"built"}' })
  ).json();
  const login = await fetch(`${url}/api/v1/auth/wechat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ code: dev.code }),
  });
  expect(login.status).toBe(200);
  const { token } = (await login.json()) as { token: string };
  const accounts = await fetch(`${url}/api/v1/accounts`, { headers: { Authorization: `Bearer ${token}` } });
  expect(accounts.status).toBe(200);
  expect(await accounts.json()).toMatchObject({ items: [], max: 10 });
  expect(output).toContain('"msg":"Heat Butler BFF listening"');

  child.kill('SIGTERM');
  expect(await exited(child)).toBe(0);
}, 480_000);
