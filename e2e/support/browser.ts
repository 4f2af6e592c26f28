/**
 * Shared by the browser tests: build the H5 app when it is missing or stale, start the real BFF
 * (sandbox mode, its own database, demo data) serving it, and drive Debian's Chromium.
 */
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHost, type Host } from '../../server/src/host';
import { createLogger } from '../../server/src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../../server/src/test-support/db';
import { ensureH5Build, ROOT } from './h5';

export { ROOT };
export const H5_DIR = path.join(ROOT, 'dist', 'h5');
export const ARTIFACTS = path.join(ROOT, 'e2e', 'artifacts');

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];


export interface E2E {
  host: Host;
  browser: Browser;
  db: TestDatabase;
  /** a phone-sized page on the app */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** `instantBills`: the Pay sandbox serves today's trade bill at once (reconciliation of today). */
export async function startE2E(opts: { instantBills?: boolean } = {}): Promise<E2E> {
  ensureH5Build();
  const db = await createTestDatabase();
  const host = await startHost({
    port: 0,
    sandbox: true,
    synchronize: true,
    seedDemo: true,
    h5Dir: H5_DIR,
    databaseUrl: db.url,
    sqlitePath: db.url ? undefined : ':memory:',
    logger: createLogger('silent'),
    instantBills: opts.instantBills,
    // issue e-invoices quickly in the demo flow
    config: { INVOICE_POLL_DELAY_MS: 200 },
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  return {
    host,
    browser,
    db,
    async newPage() {
      const page = await browser.newPage({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
      await page.goto(host.url + '/');
      return page;
    },
    async close() {
      await browser.close();
      await host.close();
      await db.drop();
    },
  };
}

/** Type into a Taro <Input name=…> (rendered as taro-input-core > input). */
export async function fill(page: Page, name: string, value: string): Promise<void> {
  await page.locator(`input[name="${name}"]`).fill(value);
}

/** Open a page of the hash router. */
export async function open(page: Page, url: string, route: string): Promise<void> {
  await page.goto(`${url}/#${route}`);
}

/** A screenshot for people to look at, after Taro's page-slide animation has finished. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.waitForTimeout(600);
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png` });
}
