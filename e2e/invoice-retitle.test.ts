/**
 * The invoice journey with a title change (issue 16 item 6, issue 17 items 9 and 10), and the bill
 * texts a resident reads (overdue, refunds, households, China time), in the H5 app.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { ERRORS, formatChinaTime, formatFen, usccCheckChar } from '@heat-butler/shared';
import { fill, open, shot, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { Invoice } from '../server/src/modules/invoices/entities';

let e: E2E;
let page: Page;
const home = DEMO.accounts[0]!;
const arrears = DEMO.arrearsAccounts[0]!;
const [last, current] = DEMO.seasons as [(typeof DEMO.seasons)[0], (typeof DEMO.seasons)[0]];
const BODY = '91220101MA0122220';
const USCC = BODY + usccCheckChar(BODY);

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  await residentWithAccount(page, e.host.url, 'e2e-retitle', home);
}, 180_000);
afterAll(async () => e?.close());

const card = (id: number) => page.locator(`.invoice-card[data-invoice-id="${id}"]`);

describe('an invoice with the wrong title is changed once', () => {
  let orderId = 0;

  it('pays, asks for a personal invoice and sees it issued without tapping 刷新', async () => {
    await open(page, e.host.url, '/pages/bills/index');
    await page.locator(`.bill-card[data-season="${current.code}"]`).click();
    await page.waitForURL(/pages\/bills\/detail/);
    await expect.poll(() => page.locator('[data-due-note]').innerText(), { timeout: 10_000 }).toMatch(/^(请于 \d{4}-\d{2}-\d{2} 前缴清|已逾期 \d+ 天)/); // overdue when the test clock is past the season's due date (e.g. Feb 29)
    const due = await page.locator('[data-due]').innerText();
    await page.getByText(`微信支付 ${due}`).click();
    await page.waitForURL(/pages\/pay\/sandbox/);
    await page.getByText('确认支付').click();
    await page.waitForURL(/pages\/payments\/detail/);
    orderId = Number(new URL(page.url().replace('#', '')).searchParams.get('id'));
    await page.getByText('申请电子发票').click();
    await page.waitForURL(/pages\/invoices\/request/);

    // a 专票 for residential heat: the rule is told as soon as the type is chosen, before any field
    await page.locator('.segment', { hasText: '专票' }).click();
    await expect.poll(() => page.locator('[data-special-rule]').innerText(), { timeout: 10_000 }).toContain(ERRORS.INVOICE_SPECIAL_NOT_ALLOWED.message);
    await expect.poll(() => page.locator('input[name="bankAccount"]').count()).toBe(0);
    await shot(page, 'invoice-special-rule');
    await page.locator('.segment', { hasText: '个人' }).click();
    await fill(page, 'titleName', home.ownerName);
    await page.getByText('提交开票申请').click();
    await page.waitForURL(/pages\/invoices\/index/);
    // the page updates itself while 开具中: no 刷新 button to tap
    await expect.poll(() => page.getByText('刷新开票进度').count()).toBe(0);
    const first = page.locator('.invoice-card').first();
    await expect.poll(() => first.getAttribute('data-status'), { timeout: 30_000, interval: 500 }).toBe('issued');
    await expect.poll(() => page.locator('[data-invoice-progress]').count()).toBe(0);

    // the receipt now links to the invoice instead of offering 申请 again
    await open(page, e.host.url, `/pages/payments/detail?id=${orderId}`);
    await expect.poll(() => page.locator('[data-receipt-invoice]').innerText(), { timeout: 10_000 }).toContain('查看电子发票（已开具）');
    await expect.poll(() => page.getByText('申请电子发票').count()).toBe(0);
  });

  it('mails it from a dialog with an input', async () => {
    await open(page, e.host.url, '/pages/invoices/index');
    const [inv] = await e.host.ds.getRepository(Invoice).find({ where: { orderId } });
    await card(inv!.id).getByText('发送邮箱').click();
    await fill(page, 'mailTo', 'not-an-address');
    await page.locator('[data-mail-send]').click();
    await expect.poll(() => page.locator('[data-mail-form]').innerText(), { timeout: 10_000 }).toContain('邮箱格式不正确');
    await fill(page, 'mailTo', 'zhou@example.com');
    await page.locator('[data-mail-send]').click();
    await expect.poll(() => e.host.sandbox!.state.mailbox.some((m) => m.to === 'zhou@example.com'), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => page.locator('[data-mail-form]').count()).toBe(0);
  });

  it('changes the title to a company: red reversal explained, re-issued with the new title, and only once', async () => {
    const [inv] = await e.host.ds.getRepository(Invoice).find({ where: { orderId } });
    await card(inv!.id).locator('[data-change-title]').click();
    await page.waitForURL(/pages\/invoices\/request/);
    await expect.poll(() => page.locator('[data-retitle-notice]').innerText(), { timeout: 10_000 }).toContain('每笔缴费只能更换一次抬头');
    await page.getByText('填写新抬头').click();
    await page.locator('.segment', { hasText: '单位' }).click();
    await fill(page, 'titleName', '长春某某科技有限公司');
    await fill(page, 'taxId', USCC);
    await shot(page, 'invoice-change-title');
    await page.getByText('确认更换抬头').click();
    await page.waitForURL(/pages\/invoices\/index/);

    // updates itself until the new invoice is issued
    await expect
      .poll(async () => (await e.host.ds.getRepository(Invoice).find({ where: { orderId }, order: { id: 'ASC' } })).map((r) => `${r.direction}:${r.status}`), {
        timeout: 30_000,
      })
      .toEqual(['blue:reversed', 'red:issued', 'blue:issued']);
    const [, red, blue] = await e.host.ds.getRepository(Invoice).find({ where: { orderId }, order: { id: 'ASC' } });
    await expect.poll(() => card(blue!.id).getAttribute('data-status'), { timeout: 30_000, interval: 500 }).toBe('issued');
    await expect
      .poll(() => card(red!.id).locator('[data-invoice-note]').innerText())
      .toBe('您申请更换发票抬头，原发票已用这张红字发票冲销作废（金额为负数），已重新开具抬头为“长春某某科技有限公司”的发票。');
    await expect.poll(() => card(inv!.id).locator('[data-invoice-note]').innerText()).toContain('此发票已红冲作废');
    await expect.poll(() => card(blue!.id).innerText()).toContain('长春某某科技有限公司');
    // once per payment: no second change offered anywhere
    await expect.poll(() => page.locator('[data-change-title]:visible').count()).toBe(0);
    await shot(page, 'invoices-after-title-change');
  });
});

describe('bill texts', () => {
  it('groups the bills of two households, says how long the arrears are overdue, and shows times in China time', async () => {
    await open(page, e.host.url, '/pages/bind/index');
    await fill(page, 'accountNo', arrears.accountNo);
    await fill(page, 'ownerName', arrears.ownerName);
    await page.getByText('绑定', { exact: true }).click();
    await page.waitForURL(/pages\/accounts\/index/);

    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator('.bill-household').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => page.locator(`.bill-household[data-household="${arrears.accountNo}"] .household-title`).innerText()).toContain(arrears.accountNo);
    const old = page.locator(`.bill-household[data-household="${arrears.accountNo}"] .bill-card[data-season="${last.code}"]`);
    await expect.poll(() => old.innerText()).toMatch(/已逾期 \d+ 天/);
    await expect.poll(() => old.innerText()).not.toContain('缴费截止');
    await shot(page, 'bills-households');

    await old.click();
    await page.waitForURL(/pages\/bills\/detail/);
    const note = page.locator('[data-due-note]');
    await expect
      .poll(() => note.innerText(), { timeout: 10_000 })
      .toMatch(/^已逾期 \d+ 天（缴费截止 \d{4}-\d{2}-\d{2}，自 \d{4}-\d{2}-\d{2} 起计滞纳金），截至今日滞纳金 ¥[\d,.]+（每日.+，累计不超过欠费的10%）/);
    await expect.poll(() => note.innerText()).not.toContain('请于');
    await shot(page, 'bill-overdue');

    // the paid bill: 缴费时间 in China time
    const bill = (await e.host.services.billing.listForResident(await residentId())).items.find((b) => b.accountNo === home.accountNo && b.status === 'paid')!;
    await open(page, e.host.url, `/pages/bills/detail?id=${bill.id}`);
    await expect.poll(() => page.locator('.card').nth(1).innerText(), { timeout: 10_000 }).toContain(`缴费时间 ${formatChinaTime(bill.paidAt!)}`);
  });

  it('after a refund, the bill shows what was kept and the refund', async () => {
    const orders = await e.host.ds.query('SELECT id, amountFen FROM payment_order WHERE status = ? ORDER BY id', ['paid']);
    const order = orders[0];
    const finance = await login();
    const res = await fetch(`${e.host.url}/api/v1/staff/payments/${order.id}/refunds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${finance}` },
      body: JSON.stringify({ amountFen: 10_000, reason: '停热退费', kind: 'other' }),
    });
    expect(res.status).toBe(201);
    await e.host.sandbox!.state.completeRefund((await res.json()).outRefundNo);
    await e.host.sandbox!.state.settleNotifications();
    await open(page, e.host.url, '/pages/bills/index');
    const paid = page.locator(`.bill-card[data-account-no="${home.accountNo}"][data-season="${current.code}"]`);
    await expect
      .poll(() => paid.innerText(), { timeout: 15_000 })
      .toContain(`实缴 ${formatFen(Number(order.amountFen) - 10_000)}（已退款 ${formatFen(10_000)}）`);
    await shot(page, 'bills-after-refund');
  });
});

async function residentId(): Promise<number> {
  const rows = await e.host.ds.query('SELECT residentId FROM binding WHERE unboundAt IS NULL');
  return Number(rows[0].residentId);
}

async function login(): Promise<string> {
  const res = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'finance1', password: 'demo-2026' }),
  });
  return (await res.json()).token;
}
