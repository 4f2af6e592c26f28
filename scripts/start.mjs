#!/usr/bin/env node
// `npm start`: build the H5 app if it is missing or older than its sources, then start the BFF in
// sandbox mode with the embedded SQLite database (migrated and seeded with the demo company).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { h5Build, h5IsStale } from './h5.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

if (h5IsStale(root)) {
  console.log('Building the H5 app (dist/h5)…');
  const [cmd, args, opts] = h5Build(root);
  const r = spawnSync(cmd, args, { ...opts, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const env = {
  HB_MODE: 'sandbox',
  HB_SEED_DEMO: '1',
  H5_DIR: path.join(root, 'dist', 'h5'),
  SQLITE_PATH: path.join(root, 'data', 'heat-butler.sqlite'),
  ...process.env,
};
fs.mkdirSync(path.join(root, 'data'), { recursive: true });
const child = spawn('npx', ['tsx', '--tsconfig', 'server/tsconfig.json', 'server/src/main.ts'], { stdio: 'inherit', env });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
