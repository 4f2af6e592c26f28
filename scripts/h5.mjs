import fs from 'node:fs';
import path from 'node:path';

/** The newest modification time of any file under `dir` (0 when it does not exist). */
export function newestMtime(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

/** Is dist/h5 missing, or older than the mini-program, shared or build-config sources? */
export function h5IsStale(root) {
  const index = path.join(root, 'dist', 'h5', 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  return ['miniprogram', 'shared/src', 'config'].some((d) => newestMtime(path.join(root, d)) > built);
}

/**
 * The H5 build (production) from `root`, as [command, args, options] for spawn or execFile and
 * their Sync forms (`npm start`, the browser tests).
 */
export function h5Build(root) {
  return ['npx', ['taro', 'build', '--type', 'h5'], { cwd: root, env: { ...process.env, NODE_ENV: 'production' } }];
}
