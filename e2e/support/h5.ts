import { execFile, execFileSync } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { h5Build, h5IsStale } from '../../scripts/h5.mjs';

export const ROOT = path.resolve(__dirname, '..', '..');

/** room for taro's output on a pipe */
const MAX_BUFFER = 64 * 1024 * 1024;

/** Build the H5 app (dist/h5) when it is missing or older than its sources. */
export function ensureH5Build(): void {
  if (!h5IsStale(ROOT)) return;
  const [cmd, args, opts] = h5Build(ROOT);
  execFileSync(cmd, args, { ...opts, maxBuffer: MAX_BUFFER });
}

/** ensureH5Build(), without blocking: the test run's global setup builds H5 and WeChat at once. */
export async function buildH5IfStale(): Promise<void> {
  if (!h5IsStale(ROOT)) return;
  const [cmd, args, opts] = h5Build(ROOT);
  await promisify(execFile)(cmd, args, { ...opts, maxBuffer: MAX_BUFFER });
}
