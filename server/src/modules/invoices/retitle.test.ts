/**
 * Changing an invoice's title after issue (issue 16, item 6): a resident whose payment was
 * invoiced automatically with the default personal title asks for a company invoice. The
 * invoice is reversed with a red one and issued again with the new title, once per payment,
 * and the resident is told. Real BFF, WeChat and e-invoice simulators, real database.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERRORS, usccCheckChar } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';
import { Invoice } from './entities';
import { keepOneChinaDay } from '../../test-support/clock';

keepOneChinaDay();

const [, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
const BODY = '91220101MA0111110';
const USCC = BODY + usccCheckChar(BODY);
const COMPANY = { kind: 'company', name: '长春某某科技有限公司', taxId: USCC } as const;

let t: TestApp;
let finance: string;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, config: { INVOICE_POLL_DELAY_MS: 0, EINVOICE_TIMEOUT_MS: 300 }, sandboxOptions: { einvoiceTimeoutMs: 800 } });
  finance = await t.loginStaff('finance1');
});
afterAll(async () => t?.close());

const sandbox = () => t.sandbox!.state;
const invoicesOf = async (orderId: number) => t.ds.getRepository(Invoice).find({ where: { orderId }, order: { id: 'ASC' } });

/** A resident with a default personal title pays this season's bill: the invoice is issued automatically. */
async function autoInvoiced(account: { accountNo: string; ownerName: string }) {
  const user = 'retitle-' + crypto.randomUUID().slice(0, 8);
  const token = await t.loginResident(user);
  await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: account.ownerName, isDefault: true } });
  await t.allowMessages(token, user, ['invoiceIssued']);
  expect((await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } })).status).toBe(201);
  const bill = (await t.call('GET', '/api/v1/bills', { token })).body.items.find((b: any) => b.status === 'unpaid' && b.season === CURRENT);
  const order = (await t.call('POST', '/api/v1/payments', { token, body: { billId: bill.id } })).body;
  await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
  await sandbox().settleNotifications();
  const paid = (await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token })).body;
  expect(paid.status).toBe('paid');
  await t.services.outbox.drain();
  const [inv] = await invoicesOf(paid.id);
  expect(inv).toMatchObject({ status: 'issued', title: { kind: 'personal', name: account.ownerName } });
  return { token, user, order: paid, invoiceId: inv!.id };
}

describe('changing the title after issue', () => {
  it('refuses to hand back the personal invoice when a company one is asked for, then reverses and re-issues once with the new title', async () => {
    const acc = DEMO.accounts[7]!;
    const p = await autoInvoiced(acc);

    // asking for a company invoice no longer silently returns the personal one
    const asked = await t.call('POST', '/api/v1/invoices', { token: p.token, body: { orderId: p.order.id, title: COMPANY } });
    expect(asked.status).toBe(409);
    expect(asked.body.error).toMatchObject({ code: 'INVOICE_EXISTS_OTHER_TITLE', details: { invoiceId: p.invoiceId, titleName: acc.ownerName } });
    // the same title still gives the same invoice
    const same = await t.call('POST', '/api/v1/invoices', { token: p.token, body: { orderId: p.order.id, title: { kind: 'personal', name: acc.ownerName } } });
    expect(same.body.id).toBe(p.invoiceId);
    const unchanged = await t.call('POST', `/api/v1/invoices/${p.invoiceId}/title`, {
      token: p.token,
      body: { title: { kind: 'personal', name: acc.ownerName } },
    });
    expect(unchanged.body.error).toMatchObject({ code: 'INVOICE_TITLE_UNCHANGED', message: ERRORS.INVOICE_TITLE_UNCHANGED.message });
    // a VAT special invoice for residential heat is refused, and doesn't use up the one change
    const vat = await t.call('POST', `/api/v1/invoices/${p.invoiceId}/title`, {
      token: p.token,
      body: { title: { ...COMPANY, kind: 'vat_special', address: '长春市', phone: '0431-88888888', bank: '工商银行', bankAccount: '0801234567890' } },
    });
    expect(vat.body.error.code).toBe('INVOICE_SPECIAL_NOT_ALLOWED');
    // another resident can't
    const stranger = await t.loginResident();
    expect((await t.call('POST', `/api/v1/invoices/${p.invoiceId}/title`, { token: stranger, body: { title: COMPANY } })).status).toBe(404);

    // the change screen asks for the 开票成功 message again (one message per 允许)
    await t.allowMessages(p.token, p.user, ['invoiceIssued']);
    const changed = await t.call('POST', `/api/v1/invoices/${p.invoiceId}/title`, { token: p.token, body: { title: COMPANY, email: 'caiwu@example.com' } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: p.invoiceId, pendingTitleName: COMPANY.name, retitled: true, canChangeTitle: false });
    await t.services.outbox.drain();

    // red reversal of the full amount, then the same amount with the company title
    const rows = await invoicesOf(p.order.id);
    expect(rows.map((r) => [r.direction, r.status, r.amountFen, r.generation, r.redReason, r.title.name, r.retitles])).toEqual([
      ['blue', 'reversed', p.order.amountFen, 1, null, acc.ownerName, 0],
      ['red', 'issued', -p.order.amountFen, 1, 'retitle', acc.ownerName, 0],
      ['blue', 'issued', p.order.amountFen, 2, null, COMPANY.name, 1],
    ]);
    const [, red, blue] = rows;
    const redAtProvider = sandbox().einvoice.invoices.get(red!.providerSerial!)!;
    expect(redAtProvider.order).toMatchObject({ invoiceType: '2', oldEleInvoiceNumber: rows[0]!.number, redReason: '开票有误' });
    const blueAtProvider = sandbox().einvoice.invoices.get(blue!.providerSerial!)!;
    expect(blueAtProvider.order).toMatchObject({ buyerName: COMPANY.name, buyerTaxNum: USCC, naturalPersonFlag: '0', invoiceType: '1' });
    expect(blueAtProvider.order.invoiceDetail[0]).toMatchObject({ taxIncludedAmount: (p.order.amountFen / 100).toFixed(2) });
    // mailed to the new address; told by a subscription message naming the new title
    expect(sandbox().mailbox.some((m) => m.to === 'caiwu@example.com' && m.attachments?.[0]?.filename === `电子发票-${blue!.number}.pdf`)).toBe(true);
    const tpl = t.services.notifications.templateId('invoiceIssued');
    const told = sandbox().subscribeMessages.filter((m) => m.templateId === tpl && m.errcode === 0 && m.data.character_string1?.value === blue!.number);
    expect(told).toHaveLength(1);
    expect(told[0]!.data.thing3!.value).toBe(`换开：${COMPANY.name}`);

    // the invoice page explains each one
    const list = (await t.call('GET', '/api/v1/invoices', { token: p.token })).body.items;
    const byId = (id: number) => list.find((i: any) => i.id === id);
    expect(byId(red!.id)).toMatchObject({ redReason: 'retitle', replacement: { id: blue!.id, titleName: COMPANY.name, status: 'issued' } });
    expect(byId(rows[0]!.id)).toMatchObject({ status: 'reversed', replacement: { id: blue!.id }, canChangeTitle: false });
    expect(byId(blue!.id)).toMatchObject({ retitled: true, canChangeTitle: false, typeLabel: '电子发票（普通发票）' });

    // once per payment: a second change is refused, whichever of its invoices is named
    for (const id of [blue!.id, p.invoiceId]) {
      const again = await t.call('POST', `/api/v1/invoices/${id}/title`, { token: p.token, body: { title: { kind: 'personal', name: acc.ownerName } } });
      expect(again.status).toBe(409);
      expect(again.body.error).toMatchObject({
        code: 'INVOICE_TITLE_CHANGED_ONCE',
        message: '每笔缴费只能更换一次发票抬头，这笔缴费的发票已经换开过，不能再次更换',
      });
    }
    await t.services.outbox.drain();
    expect(await invoicesOf(p.order.id)).toHaveLength(3);

    // a later partial refund re-issues with the changed title, and still no second change
    const r = await t.call('POST', `/api/v1/staff/payments/${p.order.id}/refunds`, {
      token: finance,
      body: { amountFen: 10_000, reason: '停热退费', kind: 'other' },
    });
    expect(r.status).toBe(201);
    await sandbox().completeRefund(r.body.outRefundNo);
    await sandbox().settleNotifications();
    await t.services.outbox.drain();
    const after = await invoicesOf(p.order.id);
    expect(after.slice(3).map((x) => [x.direction, x.status, x.amountFen, x.redReason, x.title.name, x.retitles])).toEqual([
      ['red', 'issued', -p.order.amountFen, 'refund', COMPANY.name, 1],
      ['blue', 'issued', p.order.amountFen - 10_000, null, COMPANY.name, 1],
    ]);
    const last = after.at(-1)!;
    expect((await t.call('GET', `/api/v1/invoices/${last.id}`, { token: p.token })).body).toMatchObject({ canChangeTitle: false, retitled: true });
  });

  it('changes the title of an invoice still being issued once it is issued, and of a failed one in place', async () => {
    // only requested (not yet issued): the change waits for the issue, then reverses it
    const user = 'retitle-b-' + crypto.randomUUID().slice(0, 6);
    const token = await t.loginResident(user);
    const acc = DEMO.accounts[9]!;
    expect((await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, ownerName: acc.ownerName } })).status).toBe(201);
    const bill = (await t.call('GET', '/api/v1/bills', { token })).body.items.find((b: any) => b.status === 'unpaid' && b.season === CURRENT);
    const order = (await t.call('POST', '/api/v1/payments', { token, body: { billId: bill.id } })).body;
    await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
    await sandbox().settleNotifications();
    await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token });
    await t.services.outbox.drain();
    const requested = (await t.call('POST', '/api/v1/invoices', { token, body: { orderId: order.id, title: { kind: 'personal', name: acc.ownerName } } })).body;
    expect(requested.status).toBe('requested');
    const pending = await t.call('POST', `/api/v1/invoices/${requested.id}/title`, { token, body: { title: COMPANY } });
    expect(pending.body).toMatchObject({ status: 'requested', pendingTitleName: COMPANY.name });
    await t.services.outbox.drain();
    expect((await invoicesOf(order.id)).map((r) => [r.direction, r.status, r.title.name])).toEqual([
      ['blue', 'reversed', acc.ownerName],
      ['red', 'issued', acc.ownerName],
      ['blue', 'issued', COMPANY.name],
    ]);

    // failed at the provider: issued again with the new title, no red invoice needed
    const b = await autoInvoicedFailing(DEMO.accounts[10]!);
    const fixed = await t.call('POST', `/api/v1/invoices/${b.invoiceId}/title`, { token: b.token, body: { title: COMPANY } });
    expect(fixed.body).toMatchObject({ status: 'requested', titleName: COMPANY.name, failure: null });
    await t.services.outbox.drain();
    expect((await invoicesOf(b.order.id)).map((r) => [r.direction, r.status, r.title.name, r.retitles])).toEqual([['blue', 'issued', COMPANY.name, 1]]);
    expect(
      (await t.call('POST', `/api/v1/invoices/${b.invoiceId}/title`, { token: b.token, body: { title: { kind: 'personal', name: '王' } } })).body.error.code,
    ).toBe('INVOICE_TITLE_CHANGED_ONCE');
  });
});

/** Like autoInvoiced, but the provider fails the automatic invoice. */
async function autoInvoicedFailing(account: { accountNo: string; ownerName: string }) {
  const user = 'retitle-f-' + crypto.randomUUID().slice(0, 6);
  const token = await t.loginResident(user);
  await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: account.ownerName, isDefault: true } });
  expect((await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } })).status).toBe(201);
  const bill = (await t.call('GET', '/api/v1/bills', { token })).body.items.find((b: any) => b.status === 'unpaid' && b.season === CURRENT);
  const order = (await t.call('POST', '/api/v1/payments', { token, body: { billId: bill.id } })).body;
  await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
  await sandbox().settleNotifications();
  const paid = (await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token })).body;
  sandbox().einvoice.failNext('fail');
  await t.services.outbox.drain();
  const [inv] = await invoicesOf(paid.id);
  expect(inv).toMatchObject({ status: 'failed' });
  return { token, order: paid, invoiceId: inv!.id };
}
