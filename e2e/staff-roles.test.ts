/**
 * A staff page opens only for the roles it is for (staffPage in miniprogram/components): finance
 * opening an admin screen by its address is sent to the staff home with a Chinese message saying
 * who the page is for, and the admin screen's own loads never go out; the admin opens it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open, startE2E, type E2E, staffWithPassword } from './support/browser';

let e: E2E;

beforeAll(async () => {
  e = await startE2E();
});
afterAll(async () => e?.close());

describe('staff pages check the role', () => {
  it('sends finance from 公司设置 back to the staff home with a message; the admin gets in', async () => {
    const page = await e.newPage();
    await staffWithPassword(page, e.host.url, 'finance1');
    const settingsCalls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/admin/settings') || r.url().includes('/api/v1/admin/audit')) settingsCalls.push(r.url());
    });
    await open(page, e.host.url, '/staff/admin-settings/index');
    await page.waitForURL(/staff\/home\/index/, { timeout: 15_000 });
    await expect.poll(() => page.getByText('此页面仅供管理员使用', { exact: false }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByText('没有权限', { exact: true }).count()).toBeGreaterThan(0);
    expect(settingsCalls).toEqual([]);

    const admin = await e.newPage();
    await staffWithPassword(admin, e.host.url, 'admin');
    await open(admin, e.host.url, '/staff/admin-settings/index');
    await expect.poll(() => admin.getByText('服务热线', { exact: false }).count(), { timeout: 15_000 }).toBeGreaterThan(0);
    expect(admin.url()).toMatch(/staff\/admin-settings\/index/);
  });
});
