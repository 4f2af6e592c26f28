import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { formatFen, seasonLabel } from '@heat-butler/shared';
import { fill, open, shot, startE2E, staffWithPassword, type E2E, residentWithAccount } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { confirmRefunds } from '../server/src/test-support/refunds';
import { LedgerEntry, PaymentOrder, Refund } from '../server/src/modules/payments/entities';

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
  it('this season’s bill, with arrears to pay first, offers 一键缴清 besides paying the arrears alone', async () => {
    await open(page, e.host.url, '/pages/bills/index');
    const currentCard = page.locator(`.bill-card[data-season="${current.code}"]`);
    await expect.poll(() => currentCard.count(), { timeout: 10_000 }).toBe(1);
    // the detail page alone (the bills page stays in the H5 page stack with its own 一键缴清)
    await open(page, e.host.url, `/pages/bills/detail?id=${await currentCard.getAttribute('data-bill-id')}`);
    await expect.poll(() => page.locator('[data-arrears-first]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-pay-arrears]').count()).toBe(1);
    const card = page.locator(`[data-pay-all="${account.accountNo}"]`);
    await expect.poll(() => card.locator('[data-pay-all-bill]').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => card.locator('[data-pay-all-bill]').nth(0).getAttribute('data-pay-all-bill')).toBe(last.code);
    await shot(page, 'bill-detail-pay-all');
  });

  it('pays last season’s arrears and this season’s bill in one payment from the bill page', async () => {
    await open(page, e.host.url, '/pages/bills/index');
    const card = page.locator(`[data-pay-all="${account.accountNo}"]`);
    // the card lists the bills it covers, oldest first, and the button the total
    await expect.poll(() => card.locator('[data-pay-all-bill]').count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => card.locator('[data-pay-all-bill]').nth(0).getAttribute('data-pay-all-bill')).toBe(last.code);
    await expect.poll(() => card.locator('[data-pay-all-bill]').nth(1).getAttribute('data-pay-all-bill')).toBe(current.code);
    await expect.poll(() => card.locator('[data-pay-all-bill]').nth(0).innerText()).toContain('往年欠费');
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
    await expect
      .poll(() => page.locator('.receipt').innerText())
      .toContain(`${last.code.replace('-', '—')}至${current.code.replace('-', '—')}采暖季热费（2期）`);
    await expect.poll(() => page.locator('.receipt').innerText()).toContain(`${last.code.replace('-', '—')}采暖季`);

    // one trade, the ledger split per bill, summing to it
    const ledger = await e.host.ds.getRepository(LedgerEntry).find({ order: { id: 'ASC' } });
    expect(ledger).toHaveLength(2);
    expect(new Set(ledger.map((l) => l.tradeRef)).size).toBe(1);
    expect(formatFen(ledger[0]!.amountFen + ledger[1]!.amountFen)).toBe(total);

    // both bills paid; nothing left to pay all
    await open(page, e.host.url, '/pages/bills/index');
    await expect.poll(() => page.locator(`.bill-card[data-season="${last.code}"]`).innerText(), { timeout: 10_000 }).toContain('已缴清');
    await expect.poll(() => page.locator(`.bill-card[data-season="${current.code}"]`).innerText()).toContain('已缴清');
    await expect.poll(() => page.locator('[data-pay-all]').count()).toBe(0);
  });

  it('finance refunds part of the pay-all payment off a chosen bill; the resident sees each refund on its own bill', async () => {
    const order = await e.host.ds.getRepository(PaymentOrder).findOneByOrFail({ status: 'paid' });
    const finance = await e.newPage({ viewport: { width: 1280, height: 900 } });
    await staffWithPassword(finance, e.host.url, 'finance1');
    await open(finance, e.host.url, '/staff/payments/index');
    const card = finance.locator(`[data-out-trade-no="${order.outTradeNo}"]`);
    await expect.poll(() => card.count(), { timeout: 15_000 }).toBe(1);
    await card.locator('[data-refund-open]').click();
    await card.locator('.segment', { hasText: '其他退费' }).click();
    // not the default (newest bill first): last season's bill
    await card.locator('[data-refund-bill] .segment', { hasText: seasonLabel(last.code) }).click();
    await fill(finance, 'refundAmount', '10.00');
    await fill(finance, 'refundReason', '往年计费差错退费');
    await card.locator('[data-refund-submit]').click();
    const modal = finance.locator('.taro-modal__content', { hasText: '确认退款' });
    await expect.poll(() => modal.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => modal.innerText()).toContain(`退${seasonLabel(last.code)}账单`);
    await modal.locator('.taro-modal__foot').getByText('确认退款').click();
    await expect.poll(() => e.host.ds.getRepository(Refund).count(), { timeout: 10_000 }).toBe(1);
    const refund = (await e.host.ds.getRepository(Refund).find())[0]!;
    // the order's billId is its oldest bill: last season's
    expect(refund.lines).toEqual([{ billId: order.billId, amountFen: 1000 }]);
    // finance sees the split
    await expect.poll(() => card.locator('[data-refund-split]').innerText(), { timeout: 10_000 }).toBe(`${seasonLabel(last.code)} ¥10.00`);
    // a second refund, bill left at the default: off the newest bill (this season's)
    await card.locator('[data-refund-open]').click();
    await card.locator('.segment', { hasText: '其他退费' }).click();
    await fill(finance, 'refundAmount', '5.00');
    await fill(finance, 'refundReason', '本期停热退费');
    await card.locator('[data-refund-submit]').click();
    await expect.poll(() => modal.isVisible(), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => modal.innerText()).not.toContain('账单）');
    await modal.locator('.taro-modal__foot').getByText('确认退款').click();
    await expect.poll(() => e.host.ds.getRepository(Refund).count(), { timeout: 10_000 }).toBe(2);
    await expect.poll(() => card.locator('[data-refund-split]').nth(1).innerText(), { timeout: 10_000 }).toBe(`${seasonLabel(current.code)} ¥5.00`);
    await shot(finance, 'finance-refund-pay-all-bill');
    await finance.close();

    await confirmRefunds(e.host);
    // each bill its own refund (before: everything on the order's oldest bill)
    await open(page, e.host.url, '/pages/bills/index');
    const older = page.locator(`.bill-card[data-season="${last.code}"]`);
    await expect.poll(() => older.innerText(), { timeout: 15_000 }).toContain('（已退款 ¥10.00）');
    await expect.poll(() => page.locator(`.bill-card[data-season="${current.code}"]`).innerText()).toContain('（已退款 ¥5.00）');
    await shot(page, 'bills-pay-all-refund');
  });
});
