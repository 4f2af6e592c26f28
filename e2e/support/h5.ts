import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { h5IsStale } from '../../scripts/h5.mjs';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Build the H5 app (dist/h5) when it is missing or older than its sources. */
export function ensureH5Build(): void {
  if (!h5IsStale(ROOT)) return;
  execFileSync('npx', ['taro', 'build', '--type', 'h5'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
}

/** ensureH5Build(), without blocking: the test run's global setup builds H5 and WeChat at once. */
export async function buildH5IfStale(): Promise<void> {
  if (!h5IsStale(ROOT)) return;
  await promisify(execFile)('npx', ['taro', 'build', '--type', 'h5'], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production' },
    maxBuffer: 64 * 1024 * 1024,
  });
}
