import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatFen } from '@heat-butler/shared';
import { fill, open, shot, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { LedgerEntry } from '../server/src/modules/payments/entities';

let e: E2E;
let page: Page;
const account = DEMO.arrearsAccounts[0]!;
/** last season (arrears) and this season, as of the test's clock */
const [last, current] = DEMO.seasons as [(typeof DEMO.seasons)[0], (typeof DEMO.seasons)[0]];

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  await residentWithAccount(page, e.host.url, 'e2e-payer', account);
}, 180_000);
afterAll(async () => e?.close());

describe('a resident pays a heating bill in the H5 app', () => {
  it('sees last season’s arrears first, then this season’s bill, with the total due', async () => {
    await open(page, e.host.url, '/pages/bills/index');
    const cards = page.locator('.bill-card');
    await expect.poll(() => cards.count()).toBe(2);
    await expect.poll(() => cards.nth(0).getAttribute('data-season'), { timeout: 10_000 }).toBe(last.code);
    await expect.poll(() => cards.nth(0).innerText(), { timeout: 10_000 }).toContain('往年欠费');
    await expect.poll(() => cards.nth(1).getAttribute('data-season'), { timeout: 10_000 }).toBe(current.code);
    const bills = await e.host.services.billing.listForResident((await residentId())!);
    await expect.poll(() => page.locator('[data-total-due]').innerText(), { timeout: 10_000 }).toBe(formatFen(bills.totalDueFen));
    await shot(page, 'bills');
  });

  it('opens this season’s bill: refused while last season is unpaid (arrears first), with a button that pays the arrears', async () => {
    await page.locator(`.bill-card[data-season="${current.code}"]`).click();
    await page.waitForURL(/pages\/bills\/detail/);
    await expect.poll(() => page.locator('[data-arrears-first]').innerText(), { timeout: 10_000 }).toContain('请先缴清往年欠费');
    await expect.poll(() => page.getByText(/^微信支付 /).count()).toBe(0);
    await shot(page, 'bill-arrears-first');
    await page.locator('[data-pay-arrears]').click();
    // last season's bill: pay it (the visible page's title: the bills tab stays in the DOM, hidden)
    await expect.poll(() => page.locator('.card-title:visible').first().innerText(), { timeout: 10_000 }).toBe(`${last.code.replace('-', '—')}采暖季`);
    await expect.poll(() => page.locator('[data-due]').innerText(), { timeout: 10_000 }).toMatch(/\d+\.\d{2}/);
    const due = await page.locator('[data-due]').innerText();
    await page.getByText(`微信支付 ${due}`).click();
    await page.waitForURL(/pages\/pay\/sandbox/);
    await expect.poll(() => page.locator('[data-pay-amount]').innerText()).toBe(due);
    await page.getByText('确认支付').click();
    await page.waitForURL(/pages\/payments\/detail/);
    await expect.poll(() => page.locator('[data-receipt-amount]').innerText()).toBe(due);
    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator(`.bill-card[data-season="${last.code}"]`).innerText(), { timeout: 10_000 }).toContain('已缴清');
  });

  it('opens this season’s bill, sees the computation, cancels once, then pays', async () => {
    await page.locator(`.bill-card[data-season="${current.code}"]`).click();
    await page.waitForURL(/pages\/bills\/detail/);
    await expect.poll(() => page.locator('.bill-line').count()).toBeGreaterThanOrEqual(1);
    await expect.poll(() => page.locator('.bill-line').first().innerText(), { timeout: 10_000 }).toMatch(/供热费[\s\S]*㎡ × 27\.00元\/㎡/);
    await expect.poll(() => page.locator('[data-due]').innerText(), { timeout: 10_000 }).toMatch(/\d+\.\d{2}/);
    const due = await page.locator('[data-due]').innerText();
    await shot(page, 'bill-detail');

    // the sandbox payment sheet: cancel → back on the bill, still unpaid, no error
    await page.getByText(`微信支付 ${due}`).click();
    await page.waitForURL(/pages\/pay\/sandbox/);
    await expect.poll(() => page.locator('[data-pay-amount]').innerText()).toBe(due);
    await page.getByText('取消', { exact: true }).click();
    await page.waitForURL(/pages\/bills\/detail/);
    await expect.poll(() => page.getByText(`微信支付 ${due}`).count()).toBe(1);
    await expect.poll(() => page.locator('.alert').count(), { timeout: 10_000 }).toBe(0);

    // pay for real (in the sandbox): the receipt shows the amount and WeChat's transaction id
    await page.getByText(`微信支付 ${due}`).click();
    await page.waitForURL(/pages\/pay\/sandbox/);
    await expect.poll(() => page.locator('[data-pay-amount]').innerText()).toBe(due);
    await shot(page, 'pay-sheet');
    await page.getByText('确认支付').click();
    await page.waitForURL(/pages\/payments\/detail/);
    await expect.poll(() => page.locator('[data-receipt-amount]').innerText()).toBe(due);
    await expect.poll(() => page.locator('.receipt').innerText()).toMatch(/微信支付单号\s*\d{28}/);
    await shot(page, 'receipt');

    // the ledger recorded it once (after the arrears)
    const ledger = await e.host.ds.getRepository(LedgerEntry).find({ order: { id: 'ASC' } });
    expect(ledger).toHaveLength(2);
    expect(formatFen(ledger[1]!.amountFen)).toBe(due);
  });

  it('lists the payment in 缴费记录, and the bill as paid', async () => {
    await open(page, e.host.url, '/pages/payments/index');
    await expect.poll(() => page.locator('.payment-card').count()).toBe(2);
    await expect.poll(() => page.locator('.payment-card').first().innerText(), { timeout: 10_000 }).toContain(`${current.code.replace('-', '—')}采暖季热费`);
    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator(`.bill-card[data-season="${current.code}"]`).innerText()).toContain('已缴清');
  });
});

describe('then asks for an e-invoice and opens its PDF', () => {
  it('requests a personal invoice from the receipt, sees it issued, and opens the PDF', async () => {
    await open(page, e.host.url, '/pages/payments/index');
    await page.locator('.payment-card').first().click();
    await page.waitForURL(/pages\/payments\/detail/);
    await page.getByText('申请电子发票').click();
    await page.waitForURL(/pages\/invoices\/request/);
    // one screen tells which invoices exist and what each needs
    await expect.poll(() => page.locator('.invoice-guide').innerText()).toContain('电子发票（增值税专用发票）');
    await shot(page, 'invoice-request');
    await fill(page, 'titleName', account.ownerName);
    await page.getByText('提交开票申请').click();
    await page.waitForURL(/pages\/invoices\/index/);
    const card = page.locator('.invoice-card').first();
    await expect
      .poll(
        async () => {
          if ((await card.getAttribute('data-status')) !== 'issued' && (await page.getByText('刷新开票进度').count()))
            await page.getByText('刷新开票进度').click();
          return card.getAttribute('data-status');
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe('issued');
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toMatch(/发票号码 \d{20}/);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('免税');
    await shot(page, 'invoices');
    const [popup] = await Promise.all([page.waitForEvent('popup'), card.getByText('查看PDF').click()]);
    const res = await fetch(popup.url());
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(
      Buffer.from(await res.arrayBuffer())
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
    await popup.close();
  });
});

async function residentId() {
  const rows = await e.host.ds.query('SELECT residentId FROM binding WHERE unboundAt IS NULL');
  return rows.length ? Number(rows[0].residentId) : null;
}
