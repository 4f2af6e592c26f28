/**
 * Shared by the browser tests: build the H5 app when it is missing or stale, start the real BFF
 * (sandbox mode, its own database, demo data) serving it, and drive Debian's Chromium.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHost, type Host } from '../../server/src/host';
import type { Config } from '../../server/src/config';
import { createLogger } from '../../server/src/platform/logger';
import { createTestDatabase, type TestDatabase } from '../../server/src/test-support/db';
import { ensureH5Build, ROOT } from './h5';
import { installedClockOffset, shiftBrowserDate } from '../../server/src/test-support/clock';
import { captureBothWidths, recordScreens, settled } from './gallery';

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
  /** a page on the app, phone-sized unless a viewport is given, on the test's clock */
  newPage(opts?: { viewport?: { width: number; height: number } }): Promise<Page>;
  close(): Promise<void>;
}

/**
 * `instantBills`: the Pay sandbox serves today's trade bill at once (reconciliation of today).
 * `config`: settings for this run (e.g. a small UPLOAD_MAX_KB).
 */
export async function startE2E(opts: { instantBills?: boolean; config?: Partial<Config> } = {}): Promise<E2E> {
  ensureH5Build();
  const db = await createTestDatabase();
  const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-e2e-uploads-'));
  let host: Host | undefined;
  let browser: Browser;
  try {
    host = await startHost({
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
      config: { INVOICE_POLL_DELAY_MS: 200, UPLOAD_DIR: uploadDir, ...opts.config },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  } catch (err) {
    // no E2E to close: its host, database and folder would outlive the failed run (a host that
    // could not listen left its database behind)
    await host?.close();
    await db.drop();
    fs.rmSync(uploadDir, { recursive: true, force: true });
    throw err;
  }
  return {
    host,
    browser,
    db,
    async newPage(opts = {}) {
      const page = await browser.newPage({ viewport: opts.viewport ?? { width: 390, height: 844 }, deviceScaleFactor: 2, locale: 'zh-CN' });
      // the page's clock is the test's clock (HB_TEST_NOW), not the machine's
      const offset = installedClockOffset();
      if (offset) await page.addInitScript(shiftBrowserDate, offset);
      recordScreens(page);
      await page.goto(host.url + '/');
      return page;
    },
    async close() {
      await browser.close();
      await host.close();
      await db.drop();
      fs.rmSync(uploadDir, { recursive: true, force: true });
    },
  };
}

/** Type into a Taro <Input name=…> (rendered as taro-input-core > input). */
export async function fill(page: Page, name: string, value: string): Promise<void> {
  await page.locator(`input[name="${name}"]`).fill(value);
}

/** Open a page of the hash router. */
/**
 * Open a page of the hash router with a full page load (a hash change alone can race with a
 * navigation the previous page still has pending).
 */
export async function open(page: Page, url: string, route: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(`${url}/#${route}`);
}

/** Log a resident in through the sandbox WeChat screen and bind `account`; ends on 我的户号. */
export async function residentWithAccount(page: Page, url: string, user: string, account: { accountNo: string; ownerName: string }): Promise<void> {
  await open(page, url, '/pages/login/index');
  await fill(page, 'sandbox-user', user);
  await page.getByText('微信登录（沙箱）').click();
  await page.waitForURL(/pages\/mine\/index/);
  await open(page, url, '/pages/bind/index');
  await fill(page, 'accountNo', account.accountNo);
  await fill(page, 'ownerName', account.ownerName);
  await page.getByText('绑定', { exact: true }).click();
  await page.waitForURL(/pages\/accounts\/index/);
}

/** Log a staff member in with the demo password; ends on the staff home. */
export async function staffWithPassword(page: Page, url: string, username: string): Promise<void> {
  await open(page, url, '/staff/login/index');
  await fill(page, 'username', username);
  await fill(page, 'password', 'demo-2026');
  await page.getByText('登录', { exact: true }).click();
  await page.waitForURL(/staff\/home\/index/);
}

/** A screenshot for people to look at, after Taro's page-slide animation has finished. */
export async function shot(page: Page, name: string): Promise<void> {
  await settled(page);
  await page.screenshot({ path: `${ARTIFACTS}/${name}.png` });
  // and into the gallery, at phone and desk widths
  await captureBothWidths(page, name);
}
