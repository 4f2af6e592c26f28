import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fill, open, shot, staffWithPassword, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO, demoSeason } from '../server/src/demo/seed';
import { Account } from '../server/src/modules/accounts/entities';

let e: E2E;
let page: Page;
const account = DEMO.accounts[8]!;
/** a real 1×1 PNG (the browser decodes it when compressing) */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

beforeAll(async () => {
  e = await startE2E();
  // the next season open for applications (its Sept 20 deadline is ahead whatever the test's
  // clock), and this season's bill paid (no arrears)
  const y = Number(DEMO.seasons[1]!.code.slice(0, 4)) + 1;
  await e.host.services.billing.createSeason(demoSeason(y));
  await e.host.services.billing.issueBills(`${y}-${y + 1}`);
  const bill = (await e.host.services.billing.billsOfSeason(DEMO.seasons[1]!.code)).find((b) => b.accountNo === account.accountNo)!;
  await e.host.services.billing.settleAtCounter(bill.id, new Date());
  page = await e.newPage();
  await residentWithAccount(page, e.host.url, 'e2e-stopper', account);
}, 180_000);
afterAll(async () => e?.close());

describe('a resident applies to stop heating in the H5 app', () => {
  it('sees the rules and the fee effect, uploads the ID photo, submits, and follows the status', async () => {
    await open(page, e.host.url, '/pages/services/change');
    await expect.poll(() => page.locator('[data-fee-text]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-fee-text]').innerText(), { timeout: 10_000 }).toMatch(/报停后本采暖季按30%收取基础热费¥[\d,]+\.\d{2}/);
    await expect.poll(() => page.locator('.page').innerText(), { timeout: 10_000 }).toContain('9月20日23:59:59前提交');
    await expect.poll(() => page.getByText('请先上传户主身份证照片').count()).toBe(1);
    await shot(page, 'service-change-apply');

    const chooser = page.waitForEvent('filechooser');
    await page.getByText('上传照片').click();
    await (await chooser).setFiles({ name: 'id.png', mimeType: 'image/png', buffer: PNG });
    await expect.poll(() => page.getByText('已上传（点按更换）').count(), { timeout: 10_000 }).toBe(1);
    await page.getByText('提交报停申请').click();
    await page.waitForURL(/pages\/services\/detail/);
    await expect.poll(() => page.locator('[data-state]').getAttribute('data-state')).toBe('submitted');
    await shot(page, 'service-change-submitted');

    // the area's agent sees the ID photo in the review, by a signed link that loads; a repair worker
    // of the area sees the application but only that it has an ID photo
    for (const [username, sees] of [
      ['agent1', true],
      ['worker1', false],
    ] as const) {
      const staffPage = await e.newPage();
      await staffWithPassword(staffPage, e.host.url, username);
      await open(staffPage, e.host.url, '/staff/service-changes/index');
      const card = staffPage.locator('[data-application-id]').filter({ hasText: account.accountNo });
      await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
      await card.locator('.row').first().click();
      if (sees) {
        const img = card.locator('[data-doc-photo] img');
        await expect.poll(() => img.getAttribute('src'), { timeout: 10_000 }).toMatch(/\/api\/v1\/uploads\/up_[a-f0-9]{32}\?exp=\d+&sig=/);
        await expect.poll(() => img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0), { timeout: 10_000 }).toBe(true);
        await shot(staffPage, 'service-change-review-id-photo');
      } else {
        await expect.poll(() => card.locator('[data-doc-hidden]').innerText(), { timeout: 10_000 }).toBe('证件照片仅审核人员可查看');
        await expect.poll(() => card.locator('[data-doc-photo]').count()).toBe(0);
      }
      await staffPage.close();
    }

    // the agent approves at the counter; the resident sees the valve work order and the timeline
    const accountId = (await e.host.ds.getRepository(Account).findOneByOrFail({ accountNo: account.accountNo })).id;
    const staff = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'agent1', password: 'demo-2026' }),
    }).then((r) => r.json() as Promise<{ token: string }>);
    const list = await fetch(`${e.host.url}/api/v1/staff/service-changes?state=submitted`, { headers: { Authorization: `Bearer ${staff.token}` } }).then(
      (r) => r.json() as Promise<{ items: { id: number; accountId: number }[] }>,
    );
    const app = list.items.find((a) => a.accountId === accountId)!;
    const approved = await fetch(`${e.host.url}/api/v1/staff/service-changes/${app.id}/approve`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${staff.token}` },
    });
    expect(approved.status).toBe(200);
    await page.reload();
    await expect.poll(() => page.locator('[data-state]').getAttribute('data-state'), { timeout: 10_000 }).toBe('work_order');
    await expect.poll(() => page.locator('.page').innerText(), { timeout: 10_000 }).toContain('阀门工单');
    await expect.poll(() => page.locator('.page').innerText(), { timeout: 10_000 }).toContain('关阀');
    await expect.poll(() => page.locator('.page').innerText(), { timeout: 10_000 }).toContain('审核通过');
    await shot(page, 'service-change-work-order');
  });
});
