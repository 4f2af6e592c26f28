import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { newestMtime } from '../scripts/h5.mjs';

export const ROOT = path.resolve(__dirname, '..');
export const WEAPP_DIR = path.join(ROOT, 'dist', 'weapp');
export const STAMP = path.join(ROOT, 'dist', 'weapp-test-build.json');

/**
 * The build the weapp tests check: a production build, as a company ships it (an https API
 * base — the harness routes its requests to the BFF on loopback — and a real-looking appid).
 */
export const WEAPP_TEST_ENV = {
  NODE_ENV: 'production',
  HB_API_BASE: 'https://bff.heat-butler.test',
  WECHAT_APPID: 'wx00000000000000a1',
};

/** Is dist/weapp missing, built with other settings, or older than its sources? */
export function weappIsStale(): boolean {
  if (!fs.existsSync(STAMP) || !fs.existsSync(path.join(WEAPP_DIR, 'app.js'))) return true;
  const stamp = JSON.parse(fs.readFileSync(STAMP, 'utf8'));
  if (JSON.stringify(stamp.env) !== JSON.stringify(WEAPP_TEST_ENV)) return true;
  const built = fs.statSync(STAMP).mtimeMs;
  const inputs = ['miniprogram', 'shared/src', 'config', 'patches'].map((d) => newestMtime(path.join(ROOT, d)));
  inputs.push(
    ...['project.config.json', 'package-lock.json', 'babel.config.js'].map((f) =>
      fs.existsSync(path.join(ROOT, f)) ? fs.statSync(path.join(ROOT, f)).mtimeMs : 0,
    ),
  );
  return Math.max(...inputs) > built;
}

/** `taro build --type weapp` with the settings above, for execFile and execFileSync. */
function weappBuild(): [string, string[], { cwd: string; env: NodeJS.ProcessEnv; maxBuffer: number }] {
  return ['npx', ['taro', 'build', '--type', 'weapp'], { cwd: ROOT, env: { ...process.env, ...WEAPP_TEST_ENV }, maxBuffer: 64 * 1024 * 1024 }];
}

const stampWeappBuild = () => fs.writeFileSync(STAMP, JSON.stringify({ env: WEAPP_TEST_ENV, at: new Date().toISOString() }));

/** Build dist/weapp (production settings above) when stale: ~10-25 s. */
export function ensureWeappBuild(): void {
  if (!weappIsStale()) return;
  fs.rmSync(WEAPP_DIR, { recursive: true, force: true });
  execFileSync(...weappBuild());
  stampWeappBuild();
}

/** ensureWeappBuild(), without blocking: the test run's global setup builds H5 and WeChat at once. */
export async function buildWeappIfStale(): Promise<void> {
  if (!weappIsStale()) return;
  fs.rmSync(WEAPP_DIR, { recursive: true, force: true });
  await promisify(execFile)(...weappBuild());
  stampWeappBuild();
}
