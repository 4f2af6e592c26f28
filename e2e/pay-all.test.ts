import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatFen } from '@heat-butler/shared';
import { open, shot, startE2E, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { LedgerEntry } from '../server/src/modules/payments/entities';

let e: E2E;
let page: Page;
/** a household of the demo in arrears: last season unpaid, and this season's bill */
const account = DEMO.arrearsAccounts[1]!;
const [last, current] = DEMO.seasons as [(typeof DEMO.seasons)[0], (typeof DEMO.seasons)[0]];

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  await residentWithAccount(page, e.host.url, 'e2e-pay-all', account);
}, 180_000);
afterAll(async () => e?.close());

describe('一键缴清 in the H5 app', () => {
  it('pays last season’s arrears and this season’s bill in one payment from the bill page', async () => {
    await open(page, e.host.url, '/pages/bills/index');
    const card = page.locator(`[data-pay-all="${account.accountNo}"]`);
    // the card lists the bills it covers, oldest first, and the button the total
    await expect.poll(() => card.locator('[data-pay-all-bill]').count(), { timeout: 10_000 }).toBe(2);
    expect(await card.locator('[data-pay-all-bill]').nth(0).getAttribute('data-pay-all-bill')).toBe(last.code);
    expect(await card.locator('[data-pay-all-bill]').nth(1).getAttribute('data-pay-all-bill')).toBe(current.code);
    expect(await card.locator('[data-pay-all-bill]').nth(0).innerText()).toContain('往年欠费');
    const total = await page.locator('[data-total-due]').innerText();
    await expect.poll(() => card.locator('[data-pay-all-button]').innerText()).toBe(`一键缴清 ${total}`);
    await shot(page, 'bills-pay-all');

    await card.locator('[data-pay-all-button]').click();
    await page.waitForURL(/pages\/pay\/sandbox/);
    await expect.poll(() => page.locator('[data-pay-amount]').innerText(), { timeout: 10_000 }).toBe(total);
    await expect.poll(() => page.locator('[data-pay-bill]').count()).toBe(2);
    await shot(page, 'pay-all-sheet');
    await page.getByText('确认支付').click();
    await page.waitForURL(/pages\/payments\/detail/);
    await expect.poll(() => page.locator('[data-receipt-amount]').innerText()).toBe(total);
    // the receipt says what the one payment paid for, bill by bill
    const receipt = await page.locator('.receipt').innerText();
    expect(receipt).toContain(`${last.code.replace('-', '—')}至${current.code.replace('-', '—')}采暖季热费（2期）`);
    expect(receipt).toContain(`${last.code.replace('-', '—')}采暖季`);

    // one trade, the ledger split per bill, summing to it
    const ledger = await e.host.ds.getRepository(LedgerEntry).find({ order: { id: 'ASC' } });
    expect(ledger).toHaveLength(2);
    expect(new Set(ledger.map((l) => l.tradeRef)).size).toBe(1);
    expect(formatFen(ledger[0]!.amountFen + ledger[1]!.amountFen)).toBe(total);

    // both bills paid; nothing left to pay all
    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator(`.bill-card[data-season="${last.code}"]`).innerText(), { timeout: 10_000 }).toContain('已缴清');
    await expect.poll(() => page.locator(`.bill-card[data-season="${current.code}"]`).innerText()).toContain('已缴清');
    expect(await page.locator('[data-pay-all]').count()).toBe(0);
  });
});
