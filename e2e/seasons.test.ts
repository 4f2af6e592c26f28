/**
 * Issue 17 items 1, 2 and the resident's home: an admin creates the next season on 采暖季与出账 and
 * issues its bills with progress; the resident sees the bill; before the season exists the
 * resident's 报停/复供 page says when the window opens and gives the hotline; the home page shows
 * the amount due, the latest announcement and the open repairs with their clocks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatFen, serviceChangeWindows, seasonLabel } from '@heat-butler/shared';
import { fill, open, shot, staffWithPassword, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { Account } from '../server/src/modules/accounts/entities';

let e: E2E;
let page: Page;
const account = DEMO.accounts[9]!;
const NY = Number(DEMO.seasons[1]!.code.slice(0, 4)) + 1;
const NEXT = `${NY}-${NY + 1}`;

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  await residentWithAccount(page, e.host.url, 'e2e-seasons', account);
}, 180_000);
afterAll(async () => e?.close());

const json = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${e.host.url}/api/v1${path}`, { ...init, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...init.headers } }).then(
    async (r) => ({ status: r.status, body: (await r.json()) as any }),
  );
const residentToken = () =>
  page.evaluate(() => {
    const raw = localStorage.getItem('hb.token') ?? '';
    try {
      return String(JSON.parse(raw).data ?? raw);
    } catch {
      return raw;
    }
  });

describe('seasons and 出账 (admin) → the resident’s bill', () => {
  it('no dead end on 报停/复供 before the season exists: when the window opens and the hotline', async () => {
    const rules = await e.host.services.company.rules();
    const hotline = (await e.host.services.company.info()).hotline;
    const codes = (await e.host.services.billing.seasons()).map((s) => s.code);
    const w = serviceChangeWindows(new Date(), rules, codes, hotline);
    await open(page, e.host.url, '/pages/services/change');
    if (!w.open.length) {
      await expect.poll(() => page.locator('[data-no-window]').innerText(), { timeout: 10_000 }).toContain(w.next!.text);
      await expect.poll(() => page.locator('[data-hotline]').innerText()).toContain(hotline);
      await shot(page, 'service-change-no-window');
    } else {
      await expect.poll(() => page.locator('.segmented').first().innerText(), { timeout: 10_000 }).toContain(seasonLabel(w.open[0]!.season));
    }
    await expect.poll(() => page.locator('.page').innerText()).not.toContain('未找到该采暖季');
  });

  it('the admin creates the next season (ratio from the company setting), previews and issues its bills with progress; issuing again issues nothing', async () => {
    const admin = await e.newPage();
    await staffWithPassword(admin, e.host.url, 'admin');
    await open(admin, e.host.url, '/staff/seasons/index');
    await expect.poll(() => admin.locator(`[data-season="${DEMO.seasons[1]!.code}"]`).count(), { timeout: 10_000 }).toBe(1);
    await admin.locator('[data-new-season]').click();
    await expect.poll(() => admin.locator('input[name="code"]').inputValue()).toBe(NEXT);
    await expect.poll(() => admin.locator('[data-ratio-note]').innerText()).toContain('当前 30%');
    // a bad price: its own Chinese message at the field
    await fill(admin, 'residential', '0');
    await admin.locator('[data-create-season]').click();
    await expect.poll(() => admin.locator('.field-error').first().innerText(), { timeout: 10_000 }).toBe('单价必须大于0');
    await fill(admin, 'residential', '28');
    await shot(admin, 'staff-season-new');
    await admin.locator('[data-create-season]').click();
    const card = admin.locator(`[data-season="${NEXT}"]`);
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    const created = (await e.host.services.billing.seasons()).find((s) => s.code === NEXT)!;
    expect(created).toMatchObject({ baseFeeRatioBp: 3000, tariffs: { residential: 2800 } });

    await card.locator(`[data-open-issue="${NEXT}"]`).click();
    const progress = card.locator('[data-issue-progress]');
    await expect.poll(() => progress.innerText(), { timeout: 10_000 }).toMatch(/^已出账 0 \/ \d+ 户，待出账 \d+ 户$/);
    const total = Number((await progress.innerText()).match(/\/ (\d+) 户/)![1]);
    await shot(admin, 'staff-season-issue-preview');
    await card.locator('[data-issue-button]').click();
    await expect.poll(() => progress.innerText(), { timeout: 20_000 }).toBe(`已出账 ${total} / ${total} 户，全部出账（本次出账 ${total} 户）`);
    await shot(admin, 'staff-season-issued');
    expect((await e.host.services.billing.billsOfSeason(NEXT)).length).toBe(total);
    // issuing again (reload, the API) issues nothing twice
    const again = await e.host.services.billing.issueBills(NEXT);
    expect(again).toMatchObject({ issued: 0, billed: total, remaining: 0 });
    await admin.close();

    // the resident sees the new season's bill, and 报停 for it is open
    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator('.page').innerText(), { timeout: 10_000 }).toContain(seasonLabel(NEXT));
    await open(page, e.host.url, '/pages/services/change');
    await expect.poll(() => page.locator('.segmented').first().innerText(), { timeout: 10_000 }).toContain(seasonLabel(NEXT));
  });
});

describe('the resident’s home', () => {
  it('shows the amount due with a pay button, the latest announcement of the building, open repairs with their clocks', async () => {
    const token = await residentToken();
    const bills = await json('/bills', token);
    expect(bills.status, JSON.stringify(bills.body)).toBe(200);
    const accountId = (await e.host.ds.getRepository(Account).findOneByOrFail({ accountNo: account.accountNo })).id;
    const buildingId = (await e.host.ds.getRepository(Account).findOneByOrFail({ accountNo: account.accountNo })).buildingId;
    const agent = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'agent1', password: 'demo-2026' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const posted = await json('/staff/announcements', agent.token, {
      method: 'POST',
      body: JSON.stringify({ scope: 'building', targetId: buildingId, type: 'notice', title: '供热管网巡检', body: '本周六上午巡检楼内管道，请家中留人。' }),
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    const ticket = await json('/repairs', token, {
      method: 'POST',
      body: JSON.stringify({ accountId, category: 'low_temp', description: '卧室温度只有15度' }),
    });
    expect(ticket.status, JSON.stringify(ticket.body)).toBe(201);

    await open(page, e.host.url, '/pages/home/index');
    const due = page.locator('[data-home-due]');
    await expect.poll(() => due.getAttribute('data-home-due'), { timeout: 10_000 }).toBe(String(bills.body.totalDueFen));
    expect(bills.body.totalDueFen).toBeGreaterThan(0);
    await expect.poll(() => due.innerText()).toContain(formatFen(bills.body.totalDueFen));
    await expect.poll(() => page.locator('[data-home-announcement]').innerText(), { timeout: 10_000 }).toContain('供热管网巡检');
    await expect
      .poll(() => page.locator('[data-home-deadline]').first().innerText(), { timeout: 10_000 })
      .toMatch(/^预计(今天|\d+月\d+日) \d{2}:\d{2}前联系您$/);
    // the grid and tab bar have their icons (PNG, loaded)
    await expect.poll(() => page.locator('.grid-icon img, img.grid-icon').count()).toBeGreaterThanOrEqual(4);
    const tabIcons = page.locator('.weui-tabbar__icon, .taro-tabbar__icon, [class*="tabbar"] img');
    await expect.poll(() => tabIcons.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(5);
    await expect
      .poll(
        () =>
          tabIcons.evaluateAll(
            (els) => els.filter((el) => el instanceof HTMLImageElement && el.complete && el.naturalWidth > 0 && el.getBoundingClientRect().width > 0).length,
          ),
        {
          timeout: 10_000,
        },
      )
      .toBeGreaterThanOrEqual(5);
    await shot(page, 'home-resident');
    await page.locator('[data-home-pay]').click();
    await page.waitForURL(/pages\/bills\/index/);
  }, 120_000);
});
