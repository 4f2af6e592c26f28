/**
 * WeChat's own tools on the release build: miniprogram-ci (the DevTools compiler, offline)
 * compiles dist/weapp, and every check of its code-quality report (DevTools' "代码质量": package
 * sizes, JS/WXML/WXSS compression, lazy code loading, unused files/components/plugins) passes.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, WEAPP_DIR, ensureWeappBuild } from './build';

interface Check {
  name: string;
  success: boolean;
  text: string;
  detail?: unknown;
}
interface CiResult {
  compiled: { files: number; zipBytes: number; ms: number } | null;
  quality: Check[];
  qualityMs: number;
  /** what miniprogram-ci logged */
  log: string;
}

const run = promisify(execFile);
let tmp: string;
let key: string;

/** Run miniprogram-ci in its own process (it leaves a watcher running) and read its result. */
async function wechatCi(projectPath: string, compile = true): Promise<CiResult> {
  const out = path.join(tmp, `ci-${crypto.randomUUID()}.json`);
  const args = [path.join(ROOT, 'weapp-test', 'wechat-ci.cjs'), projectPath, key, out, ...(compile ? [] : ['--no-compile'])];
  const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 150_000, maxBuffer: 10 * 1024 * 1024 });
  return { ...JSON.parse(fs.readFileSync(out, 'utf8')), log: stdout + stderr };
}

beforeAll(() => {
  ensureWeappBuild();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'weapp-ci-'));
  // offline, any RSA key will do (the upload key only matters to WeChat's servers)
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  key = path.join(tmp, 'private.key');
  fs.writeFileSync(key, privateKey.export({ type: 'pkcs1', format: 'pem' }));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("WeChat's compiler and code-quality checks (miniprogram-ci)", () => {
  it('compiles dist/weapp, and every code-quality check passes', async () => {
    const r = await wechatCi(WEAPP_DIR);
    expect(r.compiled!.zipBytes).toBeGreaterThan(100_000);
    // its unused-file analysis found app.json (Taro's miniprogramRoot './' broke it)
    expect(r.log).not.toContain('initUnusedFiles error');
    const names = r.quality.map((c) => c.name);
    for (const n of ['PACKAGE_SIZE_LIMIT', 'JS_COMPRESS_OPEN', 'WXML_COMPRESS_OPEN', 'WXSS_COMPRESS_OPEN', 'LAZYCODE_LOADING_OPEN', 'CONTAINS_UNUSED_CODES'])
      expect(names).toContain(n);
    expect(r.quality.filter((c) => !c.success).map((c) => `${c.name}: ${c.text} ${JSON.stringify(c.detail ?? '')}`)).toEqual([]);
    // main package under 1.5 MB, the staff subpackage under 2 MB (bytes)
    const sizes = r.quality.find((c) => c.name === 'PACKAGE_SIZE_LIMIT')!.detail as Record<string, number>;
    expect(sizes.__APP__).toBeLessThan(1.5 * 1024 * 1024);
    expect(sizes['staff/']).toBeLessThan(2 * 1024 * 1024);
    console.log(
      `miniprogram-ci: compiled ${r.compiled!.files} files (${r.compiled!.zipBytes} B zip) in ${r.compiled!.ms} ms; ${r.quality.length}/${r.quality.length} checks pass in ${r.qualityMs} ms; sizes ${JSON.stringify(sizes)}`,
    );
  }, 180_000);

  it('the checks are real: the settings this project had before (no compression, no lazy loading) fail them', async () => {
    const before = path.join(tmp, 'before');
    fs.cpSync(WEAPP_DIR, before, { recursive: true });
    const project = JSON.parse(fs.readFileSync(path.join(before, 'project.config.json'), 'utf8'));
    project.setting = { urlCheck: false, es6: false, enhance: false, postcss: false, minified: false, ignoreUploadUnusedFiles: true };
    fs.writeFileSync(path.join(before, 'project.config.json'), JSON.stringify(project));
    const app = JSON.parse(fs.readFileSync(path.join(before, 'app.json'), 'utf8'));
    delete app.lazyCodeLoading;
    fs.writeFileSync(path.join(before, 'app.json'), JSON.stringify(app));
    const r = await wechatCi(before, false);
    expect(
      r.quality
        .filter((c) => !c.success)
        .map((c) => c.name)
        .sort(),
    ).toEqual(['JS_COMPRESS_OPEN', 'LAZYCODE_LOADING_OPEN', 'WXML_COMPRESS_OPEN', 'WXSS_COMPRESS_OPEN']);
  }, 120_000);
});
