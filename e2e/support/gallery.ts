/**
 * The screenshot gallery: every screen the browser tests visit, for people to review the product
 * visually. Each page a test opens is recorded at phone width whenever its route changes; a
 * test's own `shot()` adds the same screen at desk width (1280 px). Entries go to
 * e2e/artifacts/gallery/manifest.jsonl (test files run in parallel processes, so one line each);
 * after the run, `writeGalleryIndex()` (vitest global teardown) turns it into index.html, grouped
 * by role (住户 / 员工) and screen.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

export const GALLERY = path.join(path.resolve(__dirname, '..', '..'), 'e2e', 'artifacts', 'gallery');
const MANIFEST = path.join(GALLERY, 'manifest.jsonl');
export const PHONE = { width: 390, height: 844 };
export const DESK = { width: 1280, height: 800 };

export interface GalleryEntry {
  file: string;
  route: string;
  role: '住户' | '员工';
  width: number;
  name: string;
  test: string;
}

/** The hash route of a page ("/pages/bills/index"), or "" before the app has routed. */
export function routeOf(url: string): string {
  const hash = url.split('#')[1] ?? '';
  return hash.split('?')[0] ?? '';
}

const roleOf = (route: string): GalleryEntry['role'] => (route.startsWith('/staff/') ? '员工' : '住户');
const slug = (s: string) => s.replace(/^\//, '').replace(/[^a-zA-Z0-9\u4e00-\u9fa5-]+/g, '_');
const testName = () => path.basename(expect.getState().testPath ?? 'e2e', '.test.ts');

let seq = 0;
async function capture(page: Page, route: string, name: string, width: number): Promise<void> {
  fs.mkdirSync(GALLERY, { recursive: true });
  const test = testName();
  const file = `${test}-${String(++seq).padStart(3, '0')}-${slug(name)}-${width}.png`;
  await page.screenshot({ path: path.join(GALLERY, file) });
  const entry: GalleryEntry = { file, route, role: roleOf(route), width, name, test };
  fs.appendFileSync(MANIFEST, JSON.stringify(entry) + '\n');
}

/** Record each screen a page shows at phone width, once per route per page, after it settles. */
export function recordScreens(page: Page): void {
  const seen = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const route = routeOf(page.url());
      if (!route || seen.has(route) || page.isClosed()) return;
      if (page.viewportSize()?.width !== PHONE.width) return;
      seen.add(route);
      // a page closed or navigating away mid-capture is simply not recorded
      capture(page, route, route, PHONE.width).catch(() => undefined);
    }, 800);
  });
}

/** A named screen at phone width (as shown) and at desk width; the page's size is restored. */
export async function captureBothWidths(page: Page, name: string): Promise<void> {
  const route = routeOf(page.url());
  const size = page.viewportSize() ?? PHONE;
  await capture(page, route, name, size.width);
  await page.setViewportSize(DESK);
  await settled(page);
  await capture(page, route, name, DESK.width);
  await page.setViewportSize(size);
  await settled(page);
}

/**
 * Until the page has laid out (two frames) and its CSS transitions have ended (Taro's page slide
 * is one of 300 ms), at most `capMs`: a fixed wait here cost every screenshot a second.
 */
export async function settled(page: Page, capMs = 1500): Promise<void> {
  await page
    .waitForFunction(
      () =>
        new Promise<boolean>((resolve) =>
          requestAnimationFrame(() =>
            requestAnimationFrame(() => resolve(document.getAnimations().every((a) => !(a instanceof CSSTransition) || a.playState !== 'running'))),
          ),
        ),
      undefined,
      { timeout: capMs },
    )
    .catch(() => undefined); // a page that keeps moving is captured as it is
}

/** Start a run's gallery afresh (global setup). */
export function resetGallery(): void {
  fs.rmSync(GALLERY, { recursive: true, force: true });
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** index.html from the manifest: by role, then by screen (route), every capture of it. */
export function writeGalleryIndex(): string | undefined {
  if (!fs.existsSync(MANIFEST)) return undefined;
  const entries: GalleryEntry[] = fs
    .readFileSync(MANIFEST, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as GalleryEntry)
    .filter((e) => fs.existsSync(path.join(GALLERY, e.file)));
  const sections = (['住户', '员工'] as const).map((role) => {
    const byRoute = new Map<string, GalleryEntry[]>();
    for (const e of entries.filter((x) => x.role === role)) byRoute.set(e.route, [...(byRoute.get(e.route) ?? []), e]);
    const routes = [...byRoute.keys()].sort();
    const blocks = routes.map((r) => {
      const figs = byRoute
        .get(r)!
        .map(
          (e) =>
            `<figure class="w${e.width}"><a href="${esc(e.file)}"><img loading="lazy" src="${esc(e.file)}"></a><figcaption>${esc(e.name)} · ${e.width}px · ${esc(e.test)}</figcaption></figure>`,
        )
        .join('');
      return `<section><h3 id="${esc(slug(r))}">${esc(r)}</h3><div class="row">${figs}</div></section>`;
    });
    return `<h2>${role}（${routes.length} 个页面）</h2>${blocks.join('')}`;
  });
  const html = `<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>供热管家 · 截图集</title>
<style>body{font-family:sans-serif;margin:24px}h3{margin:24px 0 8px;font-family:monospace}.row{display:flex;gap:16px;overflow-x:auto;align-items:flex-start}
figure{margin:0}figure img{border:1px solid #ccc}figure.w390 img{width:195px}figure.w1280 img{width:480px}figcaption{font-size:12px;color:#555;max-width:480px}</style>
<h1>供热管家 · 截图集</h1><p>${entries.length} 张截图，生成于 ${esc(new Date().toISOString())}（浏览器测试自动截取：手机宽度 390px，桌面宽度 1280px）。</p>
${sections.join('\n')}</html>`;
  const index = path.join(GALLERY, 'index.html');
  fs.writeFileSync(index, html);
  return index;
}
