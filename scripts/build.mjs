#!/usr/bin/env node
// `npm run build [-- --out <dir>]`: compile the BFF for production (plain `node`, no tsx).
//
//   <out>/node_modules/@heat-butler/shared/   shared/src compiled (JS, .d.ts, source maps) as the
//                                             package the server requires; Node's resolution from
//                                             <out>/server finds it before the workspace link to
//                                             the TypeScript sources
//   <out>/server/                             server/src compiled (no tests, no test-support),
//                                             plus the files it reads at run time (sandbox keys)
//
// Default <out> is dist/server. Start it with `node --enable-source-maps <out>/server/main.js`
// (`npm run start:production`); runtime dependencies come from the `dependencies` of
// server/package.json and shared/package.json (`npm ci --omit=dev` is enough).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const outArg = args.includes('--out') ? args[args.indexOf('--out') + 1] : undefined;
const out = path.resolve(outArg ?? path.join(root, 'dist', 'server'));
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const sharedOut = path.join(out, 'node_modules', '@heat-butler', 'shared');
const serverOut = path.join(out, 'server');
fs.rmSync(sharedOut, { recursive: true, force: true });
fs.rmSync(serverOut, { recursive: true, force: true });
fs.mkdirSync(sharedOut, { recursive: true });

function compile(name, config) {
  const file = path.join(out, `tsconfig.${name}.json`);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const started = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-p', file], { stdio: 'inherit' });
  fs.rmSync(file, { force: true });
  if (r.status !== 0) {
    console.error(`build: compiling ${name} failed`);
    process.exit(r.status ?? 1);
  }
  console.log(`build: ${name} compiled in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

const emit = { noEmit: false, sourceMap: true, inlineSources: false, removeComments: false, incremental: false };

// 1. shared → a package of JS + declarations
compile('shared', {
  extends: path.join(root, 'shared', 'tsconfig.json'),
  compilerOptions: { ...emit, rootDir: path.join(root, 'shared', 'src'), outDir: sharedOut, declaration: true },
  include: [path.join(root, 'shared', 'src')],
  exclude: [path.join(root, 'shared', 'src', '**', '*.test.ts')],
});
const sharedPkg = JSON.parse(fs.readFileSync(path.join(root, 'shared', 'package.json'), 'utf8'));
fs.writeFileSync(
  path.join(sharedOut, 'package.json'),
  JSON.stringify(
    { name: sharedPkg.name, version: sharedPkg.version, private: true, main: 'index.js', types: 'index.d.ts', dependencies: sharedPkg.dependencies },
    null,
    2,
  ),
);

// 2. server → JS, against the declarations of step 1 (so shared is not compiled into it again)
compile('server', {
  extends: path.join(root, 'server', 'tsconfig.json'),
  compilerOptions: {
    ...emit,
    rootDir: path.join(root, 'server', 'src'),
    outDir: serverOut,
    baseUrl: out,
    typeRoots: [path.join(root, 'node_modules', '@types')],
    // the declarations of step 1; their own imports (zod) and every other package from this
    // checkout's node_modules, wherever <out> is
    paths: {
      '@heat-butler/shared': [path.join(sharedOut, 'index.d.ts')],
      '*': [path.join(root, 'node_modules', '*'), path.join(root, 'node_modules', '@types', '*')],
    },
  },
  include: [path.join(root, 'server', 'src')],
  exclude: [path.join(root, 'server', 'src', '**', '*.test.ts'), path.join(root, 'server', 'src', 'test-support')],
});

// 3. files read at run time beside the code
const keys = path.join(root, 'server', 'src', 'sandbox', 'keys');
fs.cpSync(keys, path.join(serverOut, 'sandbox', 'keys'), { recursive: true });
fs.writeFileSync(path.join(serverOut, 'package.json'), JSON.stringify({ type: 'commonjs', private: true }, null, 2));
console.log(
  `build: done → ${path.relative(process.cwd(), out) || '.'} (start: node --enable-source-maps ${path.relative(process.cwd(), path.join(serverOut, 'main.js'))})`,
);
