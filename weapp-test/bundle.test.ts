/**
 * What ships in dist/weapp, read as files: the syntax gate (every .js parses as ES2017, so old
 * iOS JavaScriptCore runs it without WeChat's optional ES6 transform), no `Intl` anywhere (Android
 * WeChat has none), the production settings baked in, the sandbox payment page left out, the
 * staff pages kept out of WeChat search, and a release build that refuses to run without them.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as acorn from 'acorn';
import * as walk from 'acorn-walk';
import { describe, expect, it } from 'vitest';
import { ROOT, STAMP, WEAPP_DIR, WEAPP_TEST_ENV, ensureWeappBuild } from './build';

ensureWeappBuild();

function jsFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? jsFiles(p) : e.name.endsWith('.js') ? [p] : [];
  });
}
const files = jsFiles(WEAPP_DIR);
const rel = (f: string) => path.relative(WEAPP_DIR, f);
const appJson = JSON.parse(fs.readFileSync(path.join(WEAPP_DIR, 'app.json'), 'utf8'));

describe('the syntax gate', () => {
  it('every shipped .js parses as ES2017', () => {
    expect(files.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const f of files) {
      const src = fs.readFileSync(f, 'utf8');
      try {
        acorn.parse(src, { ecmaVersion: 2017, sourceType: 'script' });
      } catch (e) {
        const pos = (e as { pos?: number }).pos ?? 0;
        failures.push(`${rel(f)}: ${(e as Error).message} near ${JSON.stringify(src.slice(Math.max(0, pos - 60), pos + 30))}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the gate itself rejects ES2020 (?. and ??), as zod 4 shipped it untranspiled', () => {
    expect(() => acorn.parse('var a = b?.c ?? 1;', { ecmaVersion: 2017, sourceType: 'script' })).toThrow();
  });
});

describe('no Intl in the WeChat build', () => {
  it('no shipped .js refers to Intl or formats with locales/options (toLocale*String with arguments)', () => {
    const uses: string[] = [];
    for (const f of files) {
      const ast = acorn.parse(fs.readFileSync(f, 'utf8'), { ecmaVersion: 'latest', sourceType: 'script', locations: true });
      walk.full(ast, (node: any) => {
        if (node.type === 'Identifier' && node.name === 'Intl') uses.push(`${rel(f)}:${node.loc.start.line}:${node.loc.start.column} Intl`);
        if (
          node.type === 'CallExpression' &&
          node.callee.type === 'MemberExpression' &&
          !node.callee.computed &&
          /^toLocale(Date|Time)?String$/.test(node.callee.property.name) &&
          node.arguments.length
        )
          uses.push(`${rel(f)}:${node.loc.start.line}:${node.loc.start.column} ${node.callee.property.name}(…)`);
      });
    }
    expect(uses).toEqual([]);
  });

  it('the client gets no luxon (it calls Intl.DateTimeFormat for any zone)', () => {
    for (const f of files) expect(fs.readFileSync(f, 'utf8'), rel(f)).not.toMatch(/Invalid DateTime|luxon/i);
  });
});

describe('a release build', () => {
  it('calls the configured https BFF and carries the configured appid', () => {
    const common = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
    expect(common).toContain(WEAPP_TEST_ENV.HB_API_BASE);
    expect(common).not.toContain('127.0.0.1');
    const project = JSON.parse(fs.readFileSync(path.join(WEAPP_DIR, 'project.config.json'), 'utf8'));
    expect(project.appid).toBe(WEAPP_TEST_ENV.WECHAT_APPID);
    expect(project.setting).toMatchObject({ minified: true, minifyWXML: true, minifyWXSS: true });
  });

  it('leaves the sandbox payment sheet (H5 only) out of the WeChat app', () => {
    expect(appJson.pages).not.toContain('pages/pay/sandbox');
    expect(fs.existsSync(path.join(WEAPP_DIR, 'pages', 'pay'))).toBe(false);
  });

  it('loads components lazily and keeps every staff page out of WeChat search (sitemap.json)', () => {
    expect(appJson.lazyCodeLoading).toBe('requiredComponents');
    expect(appJson.sitemapLocation).toBe('sitemap.json');
    const sitemap = JSON.parse(fs.readFileSync(path.join(WEAPP_DIR, 'sitemap.json'), 'utf8')) as { rules: { action: string; page: string }[] };
    const staffPages: string[] = appJson.subPackages.find((p: { root: string }) => p.root === 'staff').pages.map((p: string) => `staff/${p}`);
    expect(staffPages.length).toBeGreaterThan(10);
    const disallowed = new Set(sitemap.rules.filter((r) => r.action === 'disallow').map((r) => r.page));
    // WeChat's sitemap has no wildcards except "*" for all pages: each staff page is listed
    expect(staffPages.filter((p) => !disallowed.has(p))).toEqual([]);
    // rules apply in order: the disallows come before the final allow-all
    expect(sitemap.rules.at(-1)).toEqual({ action: 'allow', page: '*' });
    for (const p of appJson.pages) expect(disallowed.has(p), p).toBe(false);
  });

  it('gives every tab an icon and a selected icon: PNG files shipped in the build, at most 40 KB (WeChat refuses SVG and larger files)', () => {
    const tabs = appJson.tabBar.list as { pagePath: string; iconPath?: string; selectedIconPath?: string }[];
    expect(tabs.length).toBe(5);
    for (const t of tabs)
      for (const icon of [t.iconPath, t.selectedIconPath]) {
        expect(icon, t.pagePath).toMatch(/\.png$/);
        const bytes = fs.readFileSync(path.join(WEAPP_DIR, icon!));
        expect(bytes.subarray(0, 8).toString('hex'), icon).toBe('89504e470d0a1a0a');
        expect(bytes.length, icon).toBeLessThanOrEqual(40 * 1024);
      }
  });

  it('refuses to build without an https HB_API_BASE and a real WECHAT_APPID (fails before compiling)', () => {
    const run = (env: Record<string, string>) => {
      const res = spawnSync('npx', ['taro', 'build', '--type', 'weapp'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_ENV: 'production', ...env },
      });
      // had it built after all, dist/weapp now holds a wrong build: make the next run rebuild
      if (res.status === 0) fs.rmSync(STAMP, { force: true });
      return res;
    };
    const plain = run({ HB_API_BASE: 'http://bff.example.com', WECHAT_APPID: WEAPP_TEST_ENV.WECHAT_APPID });
    expect(plain.status).not.toBe(0);
    expect(plain.stdout + plain.stderr).toContain('HB_API_BASE must be');
    const tourist = run({ HB_API_BASE: 'https://bff.example.com', WECHAT_APPID: 'touristappid' });
    expect(tourist.status).not.toBe(0);
    expect(tourist.stdout + tourist.stderr).toContain('WECHAT_APPID must be');
  }, 60_000);
});
