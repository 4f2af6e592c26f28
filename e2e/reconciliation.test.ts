/**
 * Finance reconciles today in the H5 build: logs in, opens 对账 from the staff home, runs today
 * (the sandbox serves today's trade bill at once), sees the day 有差异 with a 短款 (a ledger entry
 * WeChat never saw) next to the matched payment, resolves it with a type and a note, and the day
 * turns 已平 in the calendar.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { chinaDate } from '@heat-butler/shared';
import { fill, open, shot, startE2E, type E2E, staffWithPassword } from './support/browser';
import { DEMO } from '../server/src/demo/seed';
import { confirmRefunds } from '../server/src/test-support/refunds';
import { LedgerEntry, PaymentOrder } from '../server/src/modules/payments/entities';
import { ReconDiscrepancy } from '../server/src/modules/reconciliation/entities';
import { keepOneChinaDay } from '../server/src/test-support/clock';

// this file's story happens on one China calendar day
keepOneChinaDay();

let e: E2E;
let page: Page;
const today = chinaDate(new Date());
let paid: { outTradeNo: string; amountFen: number };
let twice: { billId: number; outTradeNo: string; partFen: number };
/** the reconciliation page (Taro H5 keeps the staff home, hidden, in the DOM) */
const R = () => page.locator('.recon-page');

async function call(method: string, path: string, body?: unknown, token?: string) {
  const res = await fetch(`${e.host.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
}

beforeAll(async () => {
  e = await startE2E({ instantBills: true });
  // a resident pays this season's bill in the sandbox: WeChat's bill and the ledger both have it
  const account = DEMO.accounts[0]!;
  const dev = await call('POST', '/sandbox/device/login', { user: 'e2e-recon-payer' });
  const token = (await call('POST', '/api/v1/auth/wechat', { code: dev.body.code })).body.token;
  expect((await call('POST', '/api/v1/accounts/bind', { accountNo: account.accountNo, ownerName: account.ownerName }, token)).status).toBe(201);
  const bill = (await call('GET', '/api/v1/bills', undefined, token)).body.items.find(
    (b: any) => b.accountNo === account.accountNo && b.season === DEMO.seasons[1]!.code,
  );
  const order = (await call('POST', '/api/v1/payments', { billId: bill.id }, token)).body;
  const pay = await call('POST', '/sandbox/device/pay', { ...order.requestPayment, user: 'e2e-recon-payer', action: 'confirm' });
  expect(pay.body.errMsg).toBe('requestPayment:ok');
  await e.host.sandbox!.state.settleNotifications();
  const o = await e.host.ds.getRepository(PaymentOrder).findOneByOrFail({ id: order.id });
  expect(o.status).toBe('paid');
  paid = { outTradeNo: o.outTradeNo, amountFen: o.amountFen };
  // and a ledger entry WeChat never saw (短款)
  await e.host.ds.getRepository(LedgerEntry).insert({
    ref: 'pay:HBE2EGHOST000000000001',
    tradeRef: 'pay:HBE2EGHOST000000000001',
    kind: 'payment',
    amountFen: 6600,
    orderId: o.id,
    refundId: null,
    billId: o.billId,
    accountId: o.accountId,
    outTradeNo: 'HBE2EGHOST000000000001',
    transactionId: null,
    at: new Date(),
  });

  // and a household's 一键缴清 payment of two seasons, the older one paid at the counter while it was
  // open: that bill was paid twice, its part refunded automatically (and confirmed by WeChat here)
  const owing = DEMO.arrearsAccounts[0]!;
  const dev2 = await call('POST', '/sandbox/device/login', { user: 'e2e-recon-payall' });
  const token2 = (await call('POST', '/api/v1/auth/wechat', { code: dev2.body.code })).body.token;
  const bound = await call('POST', '/api/v1/accounts/bind', { accountNo: owing.accountNo, ownerName: owing.ownerName }, token2);
  const due = (await call('GET', '/api/v1/bills', undefined, token2)).body.items.filter((b: any) => b.status === 'unpaid');
  expect(due).toHaveLength(2);
  const all = (await call('POST', '/api/v1/payments/pay-all', { accountId: bound.body.accountId, billIds: due.map((b: any) => b.id) }, token2)).body;
  await e.host.services.billing.settleAtCounter(due[0].id, new Date());
  const pay2 = await call('POST', '/sandbox/device/pay', { ...all.requestPayment, user: 'e2e-recon-payall', action: 'confirm' });
  expect(pay2.body.errMsg).toBe('requestPayment:ok');
  await e.host.sandbox!.state.settleNotifications();
  // the refund of the part paid twice, confirmed by WeChat before the day is reconciled
  await confirmRefunds(e.host, { orderId: all.id });
  twice = { billId: due[0].id, outTradeNo: all.outTradeNo, partFen: due[0].dueFen };

  page = await e.newPage({ viewport: { width: 1280, height: 900 } }); // finance works on a desktop browser
  await staffWithPassword(page, e.host.url, 'finance1');
}, 240_000);
afterAll(async () => e?.close());

describe('finance reconciles today in the H5 app', () => {
  it('opens 对账 from the staff home: this month as a calendar, today not reconciled yet', async () => {
    await page.locator('.dash-link', { hasText: '每日微信账单与台账核对' }).click();
    await page.waitForURL(/staff\/reconciliation\/index/);
    const cell = R().locator(`[data-bill-date="${today}"]`);
    await expect.poll(() => cell.getAttribute('data-status'), { timeout: 10_000 }).toBe('none');
    await expect.poll(() => R().locator('.recon-cal-head').count(), { timeout: 10_000 }).toBe(7);
    await shot(page, 'recon-calendar');
  });

  it('runs today: the payment matches, the ghost entry is a 短款 with the ledger side; the day 有差异', async () => {
    await R().locator(`[data-bill-date="${today}"]`).click();
    await expect.poll(() => R().locator('.card-title').first().innerText()).toBe(today);
    await expect.poll(() => R().getByText('该日尚未对账').count()).toBe(1);
    await R().getByText('对账', { exact: true }).click();
    await expect.poll(() => R().locator('[data-day-status]').getAttribute('data-day-status'), { timeout: 15_000 }).toBe('differences');
    await expect.poll(() => R().locator('[data-day-status]').innerText(), { timeout: 10_000 }).toContain('有差异');
    await expect.poll(() => R().locator('[data-day-status]').innerText(), { timeout: 10_000 }).toMatch(/微信账单：收款 2 笔/);
    await expect.poll(() => R().locator('[data-day-status]').innerText(), { timeout: 10_000 }).toMatch(/台账：收款 3 笔/);
    await expect.poll(() => R().locator('[data-day-status]').innerText(), { timeout: 10_000 }).toContain('一致 3 · 自愈 0 · 在途退款 0 · 重复支付 1');
    const card = R().locator('[data-discrepancy-status="open"]');
    await expect.poll(() => card.count()).toBe(1);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('短款 · HBE2EGHOST000000000001');
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('-66.00元');
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('"amountFen":6600');
    await shot(page, 'recon-day-differences');
  });

  it('shows the bill paid at the counter and again by the 一键缴清 payment, with the refund of that part, in Chinese', async () => {
    const pair = R().locator(`[data-pair-bill="${twice.billId}"]`);
    await expect.poll(() => pair.count()).toBe(1);
    const text = () => pair.innerText();
    await expect.poll(text).toContain('已原路退回');
    await expect.poll(text).toMatch(/入账：\s*柜台缴费 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await expect.poll(text).toContain(`重复：${twice.outTradeNo} ${(twice.partFen / 100).toFixed(2)}元`);
    await expect.poll(text).toMatch(new RegExp(`退款：\\s*${twice.outTradeNo}R1 −${(twice.partFen / 100).toFixed(2)}元（已退款）`));
    // refunded in full: the pair is not a difference
    await expect.poll(() => e.host.ds.getRepository(ReconDiscrepancy).countBy({ outTradeNo: twice.outTradeNo })).toBe(0);
  });

  it('resolves the 短款 with a type and a note: recorded with who and when, the day 已平', async () => {
    const card = R().locator('[data-discrepancy-status="open"]');
    // a note is required
    await card.getByText('标记已处理').click();
    await expect.poll(() => page.getByText('请填写处理说明').count()).toBeGreaterThan(0);
    await card.getByText('核销').click();
    await card.locator('input').fill('测试数据，已核实为误记');
    await card.getByText('标记已处理').click();
    await expect.poll(() => R().locator('[data-day-status]').getAttribute('data-day-status'), { timeout: 10_000 }).toBe('balanced');
    const resolved = R().locator('[data-discrepancy-status="resolved"]');
    await expect.poll(() => resolved.innerText(), { timeout: 10_000 }).toContain('测试数据，已核实为误记');
    const row = await e.host.ds.getRepository(ReconDiscrepancy).findOneByOrFail({ key: 'pay:HBE2EGHOST000000000001' });
    expect(row).toMatchObject({ status: 'resolved', resolution: 'written_off', resolvedByName: expect.any(String), resolvedAt: expect.any(Date) });
    await shot(page, 'recon-day-balanced');

    // at a desk the calendar stays beside the day (two panes): its cell turns green
    await expect.poll(() => R().locator('[data-desk="two-pane"]').count()).toBe(1);
    await expect.poll(() => R().getByText('返回日历').count()).toBe(0);
    await expect.poll(() => R().locator(`[data-bill-date="${today}"]`).getAttribute('data-status'), { timeout: 10_000 }).toBe('balanced');
    await expect.poll(() => R().locator('.recon-cal-balanced').count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    // the paid order was matched, not reported
    await expect.poll(() => e.host.ds.getRepository(ReconDiscrepancy).countBy({ outTradeNo: paid.outTradeNo })).toBe(0);
  });

  it('exports the day to XLSX from the page', async () => {
    await R().locator(`[data-bill-date="${today}"]`).click();
    await expect.poll(() => R().locator('[data-day-status]').getAttribute('data-day-status')).toBe('balanced');
    const download = page.waitForEvent('download');
    await R().locator('[data-recon-day]').getByText('导出 Excel', { exact: true }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe(`对账-${today}.xlsx`);
  });
});
