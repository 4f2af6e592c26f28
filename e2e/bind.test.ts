import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { fill, open, shot, startE2E, type E2E } from './support/browser';
import { DEMO } from '../server/src/demo/seed';

let e: E2E;
let page: Page;
const account = DEMO.accounts[0];

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
}, 180_000);
afterAll(async () => e?.close());

describe('a resident in the H5 app', () => {
  it('logs in through the sandbox WeChat screen', async () => {
    await open(page, e.host.url, '/pages/login/index');
    await expect.poll(() => page.getByText('沙箱环境').count()).toBe(1);
    await fill(page, 'sandbox-user', 'e2e-resident');
    await page.getByText('微信登录（沙箱）').click();
    await page.waitForURL(/pages\/mine\/index/);
    await expect.poll(() => page.getByText('已绑定 0 个户号').count()).toBe(1);
  });

  it('sees a clear Chinese error for a wrong owner name', async () => {
    await open(page, e.host.url, '/pages/bind/index');
    await fill(page, 'accountNo', account.accountNo);
    await fill(page, 'ownerName', '不是户主');
    await page.getByText('绑定', { exact: true }).click();
    await expect.poll(() => page.locator('.alert').innerText()).toContain('户号与户主姓名或手机号后四位不一致，请核对缴费单');
    await expect.poll(() => page.locator('.alert').innerText(), { timeout: 10_000 }).toContain('还可尝试4次');
  });

  it('lists every invalid field at once before sending anything', async () => {
    await fill(page, 'accountNo', '12');
    await fill(page, 'ownerName', '');
    await page.getByText('绑定', { exact: true }).click();
    await expect.poll(() => page.locator('.field-error').count()).toBe(2);
    await expect.poll(() => page.locator('.field-error').allInnerTexts(), { timeout: 10_000 }).toEqual(['户号应为6-20位数字或字母', '请输入户主姓名']);
  });

  it('binds a demo account, sees it listed, and unbinds it', async () => {
    await fill(page, 'accountNo', account.accountNo);
    await fill(page, 'ownerName', account.ownerName);
    await page.getByText('绑定', { exact: true }).click();
    await page.waitForURL(/pages\/accounts\/index/);
    const card = page.locator(`[data-account-no="${account.accountNo}"]`);
    await expect.poll(() => card.count()).toBe(1);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain(`户号 ${account.accountNo}`);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain(account.ownerName[0] + '*');
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).not.toContain(account.ownerName);
    await shot(page, 'bind-accounts');

    await card.getByText('解除绑定').click();
    await page.locator('.taro-model__confirm').click();
    await expect.poll(() => page.getByText('还没有绑定户号').count()).toBe(1);
    await shot(page, 'bind-unbound');
    // the server agrees
    const rows = await e.host.services.accounts.searchForStaff('all', account.accountNo, 1, 10);
    expect(rows.total).toBe(1);
  });
});
