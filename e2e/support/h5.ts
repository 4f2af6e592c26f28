import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { h5IsStale } from '../../scripts/h5.mjs';

export const ROOT = path.resolve(__dirname, '..', '..');

/** Build the H5 app (dist/h5) when it is missing or older than its sources. */
export function ensureH5Build(): void {
  if (!h5IsStale(ROOT)) return;
  execFileSync('npx', ['taro', 'build', '--type', 'h5'], { cwd: ROOT, stdio: 'pipe', env: { ...process.env, NODE_ENV: 'production' } });
}
