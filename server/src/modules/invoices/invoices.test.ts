/**
 * E-invoices end to end: the real BFF, WeChat Pay and e-invoice provider simulators on loopback,
 * a real database; payments made through the sandbox like a resident would.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWechatInvoiceTitle, usccCheckChar } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO, demoHouseholds } from '../../demo/seed';
import { Invoice } from './entities';
import { keepOneChinaDay } from '../../test-support/clock';

// this file's story happens on one China calendar day
keepOneChinaDay();

/** last season and this season of the demo, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];

let t: TestApp;
let finance: string;

beforeAll(async () => {
  t = await startTestApp({
    seedDemo: true,
    config: { INVOICE_POLL_DELAY_MS: 0, EINVOICE_TIMEOUT_MS: 300, HB_LIMITS: { 'mail.resident': { max: 2, windowMinutes: 24 * 60 } } },
    sandboxOptions: { einvoiceTimeoutMs: 800 },
  });
  finance = await t.loginStaff('finance1');
});
afterAll(async () => t?.close());

const sandbox = () => t.sandbox!.state;
// a valid unified social credit code, and the same body with a wrong check character
const BODY = '91110108MA01XXXX0';
const GOOD_USCC = BODY.replace(/X/g, '1') + usccCheckChar(BODY.replace(/X/g, '1'));
const BAD_USCC = GOOD_USCC.slice(0, 17) + (GOOD_USCC[17] === '0' ? '1' : '0');

async function paidOrder(account: { accountNo: string; ownerName: string }, user = 'inv-' + crypto.randomUUID().slice(0, 8)) {
  const token = await t.loginResident(user);
  expect((await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } })).status).toBe(201);
  const bills = await t.call('GET', '/api/v1/bills', { token });
  const bill = bills.body.items.find((b: any) => b.status === 'unpaid' && b.season === CURRENT);
  const order = (await t.call('POST', '/api/v1/payments', { token, body: { billId: bill.id } })).body;
  await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
  await sandbox().settleNotifications();
  const paid = (await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token })).body;
  expect(paid.status).toBe('paid');
  return { token, user, order: paid };
}

const invoicesOf = async (orderId: number) => t.ds.getRepository(Invoice).find({ where: { orderId }, order: { id: 'ASC' } });

describe('invoice titles', () => {
  it('keeps personal and company titles, and checks the taxpayer id precisely', async () => {
    const token = await t.loginResident();
    const personal = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: '周子涵' } });
    expect(personal.status).toBe(201);
    expect(personal.body).toMatchObject({ kind: 'personal', name: '周子涵', taxId: null, isDefault: false });

    const noId = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'company', name: '长春某某科技有限公司' } });
    expect(noId.body.error.details.fields).toEqual([{ field: 'taxId', message: '单位抬头必须填写纳税人识别号' }]);

    const badChar = await t.call('POST', '/api/v1/invoice-titles', {
      token,
      body: { kind: 'company', name: '长春某某科技有限公司', taxId: '91110108MA01IOSV0Z' },
    });
    expect(badChar.status).toBe(400);
    expect(badChar.body.error.details.fields[0].message).toMatch(/不能包含字母/);

    // a wrong check character is flagged, and accepted once the resident confirms it
    const flagged = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'company', name: '长春某某科技有限公司', taxId: BAD_USCC } });
    expect(flagged.status).toBe(400);
    expect(flagged.body.error.details.fields[0]).toMatchObject({ field: 'taxId', params: { needsConfirm: true, expected: GOOD_USCC[17] } });
    const confirmed = await t.call('POST', '/api/v1/invoice-titles', {
      token,
      body: { kind: 'company', name: '长春某某科技有限公司', taxId: BAD_USCC, confirmTaxId: true },
    });
    expect(confirmed.status).toBe(201);
    expect(confirmed.body).toMatchObject({ taxId: BAD_USCC, taxIdConfirmed: true });

    const good = await t.call('POST', '/api/v1/invoice-titles', {
      token,
      body: { kind: 'company', name: '吉林某某物业公司', taxId: GOOD_USCC.toLowerCase(), isDefault: true },
    });
    expect(good.body).toMatchObject({ taxId: GOOD_USCC, isDefault: true });
    const legacy = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'company', name: '某老单位', taxId: '220104123456789' } });
    expect(legacy.status).toBe(201);

    // a VAT special title needs the four extra fields, all listed at once
    const vat = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'vat_special', name: '吉林某某物业公司', taxId: GOOD_USCC } });
    expect(vat.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['address', 'bank', 'bankAccount', 'phone']);

    const list = await t.call('GET', '/api/v1/invoice-titles', { token });
    expect(list.body.items[0]).toMatchObject({ name: '吉林某某物业公司', isDefault: true });
    expect(list.body.items).toHaveLength(4);
  });

  it('maps WeChat’s chooseInvoiceTitle answer ("0" company, "1" individual)', () => {
    expect(fromWechatInvoiceTitle({ type: '1', title: '王建国' })).toMatchObject({ kind: 'personal', name: '王建国' });
    expect(fromWechatInvoiceTitle({ type: '0', title: '某公司', taxNumber: GOOD_USCC })).toMatchObject({ kind: 'company', taxId: GOOD_USCC });
    expect(
      fromWechatInvoiceTitle({
        type: '0',
        title: '某公司',
        taxNumber: GOOD_USCC,
        companyAddress: '长春市',
        telephone: '0431-8888888',
        bankName: '工商银行',
        bankAccount: '1234',
      }),
    ).toMatchObject({ kind: 'vat_special', bank: '工商银行' });
  });
});

describe('issuing', () => {
  it('issues automatically after payment for a default title, archives the PDF and tells the resident', async () => {
    const acc = DEMO.accounts[0]!;
    const user = 'inv-auto';
    const token = await t.loginResident(user);
    await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: acc.ownerName, isDefault: true, email: 'zhou@example.com' } });
    await t.allowMessages(token, user, ['invoiceIssued']);
    const { order } = await paidOrder(acc, user);
    await t.services.outbox.drain();

    const [inv] = await invoicesOf(order.id);
    expect(inv).toMatchObject({ direction: 'blue', status: 'issued', amountFen: order.amountFen, taxFen: 0, rateLabel: '免税', line: 'pc' });
    expect(inv!.number).toMatch(/^\d{20}$/);
    // the provider got the heat-supply tax code and the exemption mark
    const atProvider = sandbox().einvoice.invoices.get(inv!.providerSerial!)!;
    expect(atProvider.order.invoiceDetail[0]).toMatchObject({ goodsCode: '1100102010100000000', favouredPolicyFlag: '03', taxRate: '0' });
    expect(atProvider.order.buyerName).toBe(acc.ownerName);

    const list = await t.call('GET', '/api/v1/invoices', { token });
    const view = list.body.items[0];
    expect(view).toMatchObject({ status: 'issued', typeLabel: '电子发票（普通发票）', number: inv!.number });
    const pdf = await fetch(view.pdfUrl);
    expect(pdf.status).toBe(200);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer());
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.length).toBeGreaterThan(5_000); // the CJK font subset is embedded
    // mailed to the title's address with the PDF, and a subscription message
    expect(sandbox().mailbox.find((m) => m.to === 'zhou@example.com')).toMatchObject({ attachments: [{ filename: `电子发票-${inv!.number}.pdf` }] });
    expect(sandbox().subscribeMessages.some((m) => m.templateId === t.services.notifications.templateId('invoiceIssued') && m.errcode === 0)).toBe(true);
    // a tampered link is refused
    // (one character of the signature changed: to another one, never to itself)
    const tampered = view.pdfUrl.replace(/sig=(.)/, (_: string, c: string) => `sig=${c === 'A' ? 'B' : 'A'}`);
    expect(tampered).not.toBe(view.pdfUrl);
    expect((await fetch(tampered)).status).toBe(403);
  });

  it('gives one invoice for a payment however often it is asked, and refuses another resident', async () => {
    const { token, order } = await paidOrder(DEMO.accounts[1]!);
    const body = { orderId: order.id, title: { kind: 'personal', name: '彭明辉' } };
    const [a, b] = await Promise.all([t.call('POST', '/api/v1/invoices', { token, body }), t.call('POST', '/api/v1/invoices', { token, body })]);
    expect(a.body.id).toBe(b.body.id);
    const again = await t.call('POST', '/api/v1/invoices', { token, body });
    expect(again.body.id).toBe(a.body.id);
    await t.services.outbox.drain();
    expect(await invoicesOf(order.id)).toHaveLength(1);

    const stranger = await t.loginResident();
    expect((await t.call('GET', `/api/v1/invoices/${a.body.id}`, { token: stranger })).status).toBe(404);
    expect((await t.call('POST', '/api/v1/invoices', { token: stranger, body })).status).toBe(404);
    expect((await t.call('POST', `/api/v1/invoices/${a.body.id}/email`, { token: stranger, body: { email: 'x@example.com' } })).status).toBe(404);

    // the owner may mail it to any address, within the quota (2 a day in this file)
    const mail = (n: number) => t.call('POST', `/api/v1/invoices/${a.body.id}/email`, { token, body: { email: `copy${n}@example.com` } });
    expect((await mail(1)).status).toBe(204);
    expect((await mail(2)).status).toBe(204);
    const over = await mail(3);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe(String(24 * 3600));
    expect(over.body.error.message).toBe(`发送发票邮件次数已达上限，请在 24 小时后再试，如需帮助请拨打客服热线 ${(await t.services.company.info()).hotline}`);
    expect(sandbox().mailbox.some((m) => m.to === 'copy3@example.com')).toBe(false);
  });

  it('refuses a VAT special invoice for residential heat, and taxes commercial heat at 9%', async () => {
    const { token, order } = await paidOrder(DEMO.accounts[2]!);
    const vatTitle = {
      kind: 'vat_special',
      name: '某商铺',
      taxId: GOOD_USCC,
      address: '长春市',
      phone: '0431-88888888',
      bank: '工商银行长春分行',
      bankAccount: '0801234567890',
    };
    const refused = await t.call('POST', '/api/v1/invoices', { token, body: { orderId: order.id, title: vatTitle } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'INVOICE_SPECIAL_NOT_ALLOWED', message: '居民供暖费免征增值税，只能开具普通发票' });

    const shop = demoHouseholds().find((h) => h.use === 'commercial' && h.status === 'active')!;
    const c = await paidOrder(shop);
    const ok = await t.call('POST', '/api/v1/invoices', { token: c.token, body: { orderId: c.order.id, title: vatTitle } });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ typeLabel: '电子发票（增值税专用发票）', rateLabel: '9%' });
    expect(ok.body.taxFen).toBe(Math.round((c.order.amountFen * 900) / 10900));
    await t.services.outbox.drain();
    expect((await t.call('GET', `/api/v1/invoices/${ok.body.id}`, { token: c.token })).body.status).toBe('issued');
  });

  it('recovers from a provider failure (finance retries) and from a busy provider and a timeout (automatic retries)', async () => {
    // failure reported by the provider after submission
    const a = await paidOrder(DEMO.accounts[3]!);
    sandbox().einvoice.failNext('fail');
    const inv = (await t.call('POST', '/api/v1/invoices', { token: a.token, body: { orderId: a.order.id, title: { kind: 'personal', name: '张三' } } })).body;
    await t.services.outbox.drain();
    const failed = await t.call('GET', `/api/v1/invoices/${inv.id}`, { token: a.token });
    expect(failed.body).toMatchObject({ status: 'failed', failure: '购方纳税人识别号校验不通过' });
    const day = await t.call('GET', `/api/v1/staff/invoices?date=${new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10)}&status=failed`, {
      token: finance,
    });
    expect(day.body.items.map((i: any) => i.id)).toContain(inv.id);
    const retried = await t.call('POST', `/api/v1/staff/invoices/${inv.id}/retry`, { token: finance });
    expect(retried.body.status).toBe('requested');
    await t.services.outbox.drain();
    expect((await t.call('GET', `/api/v1/invoices/${inv.id}`, { token: a.token })).body.status).toBe('issued');
    expect((await t.call('POST', `/api/v1/staff/invoices/${inv.id}/retry`, { token: finance })).body.error.code).toBe('INVOICE_NOT_RETRYABLE');

    // busy, then a timeout (the provider accepted but answered too late): the repeat finds the order
    sandbox().einvoice.failNext('busy');
    sandbox().einvoice.failNext('timeout');
    const b = await paidOrder(DEMO.accounts[4]!);
    const inv2 = (await t.call('POST', '/api/v1/invoices', { token: b.token, body: { orderId: b.order.id, title: { kind: 'personal', name: '李四' } } })).body;
    await expect(t.services.invoices.submit(inv2.id)).rejects.toThrow(/系统繁忙/);
    await expect(t.services.invoices.submit(inv2.id)).rejects.toThrow(/unreachable/);
    expect((await t.ds.getRepository(Invoice).findOneByOrFail({ id: inv2.id })).status).toBe('requested');
    await new Promise((r) => setTimeout(r, 900)); // the late answer arrives at nobody
    await t.services.invoices.submit(inv2.id);
    await t.services.outbox.drain();
    const done = await t.ds.getRepository(Invoice).findOneByOrFail({ id: inv2.id });
    expect(done.status).toBe('issued');
    // one order at the provider, not two
    expect([...sandbox().einvoice.invoices.values()].filter((x) => x.order.orderNo === done.providerOrderNo)).toHaveLength(1);
  });
});

describe('refunds reverse invoices', () => {
  async function issued(account: { accountNo: string; ownerName: string }) {
    const p = await paidOrder(account);
    const inv = (
      await t.call('POST', '/api/v1/invoices', { token: p.token, body: { orderId: p.order.id, title: { kind: 'personal', name: account.ownerName } } })
    ).body;
    await t.services.outbox.drain();
    return { ...p, invoiceId: inv.id as number };
  }

  async function refund(orderId: number, amountFen: number) {
    const r = await t.call('POST', `/api/v1/staff/payments/${orderId}/refunds`, { token: finance, body: { amountFen, reason: '停热退费', kind: 'other' } });
    expect(r.status).toBe(201);
    await sandbox().completeRefund(r.body.outRefundNo);
    await sandbox().settleNotifications();
    await t.services.outbox.drain();
  }

  it('reverses the invoice with a red one after a full refund', async () => {
    const p = await issued(DEMO.accounts[5]!);
    await refund(p.order.id, p.order.amountFen);
    const rows = await invoicesOf(p.order.id);
    expect(rows.map((r) => [r.direction, r.status, r.amountFen])).toEqual([
      ['blue', 'reversed', p.order.amountFen],
      ['red', 'issued', -p.order.amountFen],
    ]);
    const red = sandbox().einvoice.invoices.get(rows[1]!.providerSerial!)!;
    expect(red.order).toMatchObject({ invoiceType: '2', oldEleInvoiceNumber: rows[0]!.number });
    const list = await t.call('GET', '/api/v1/invoices', { token: p.token });
    expect(list.body.items.map((i: any) => [i.typeLabel, i.status])).toEqual([
      ['电子发票（普通发票）红字', 'issued'],
      ['电子发票（普通发票）', 'reversed'],
    ]);
  });

  it('reverses and re-issues for the net amount after a partial refund', async () => {
    const p = await issued(DEMO.accounts[6]!);
    await refund(p.order.id, 5_000);
    const rows = await invoicesOf(p.order.id);
    expect(rows.map((r) => [r.direction, r.status, r.amountFen, r.generation])).toEqual([
      ['blue', 'reversed', p.order.amountFen, 1],
      ['red', 'issued', -p.order.amountFen, 1],
      ['blue', 'issued', p.order.amountFen - 5_000, 2],
    ]);
    // running the reconciliation again changes nothing
    await t.services.invoices.reconcileOrder(p.order.id);
    await t.services.outbox.drain();
    expect(await invoicesOf(p.order.id)).toHaveLength(3);
  });
});

describe('finance', () => {
  it('exports the day’s invoices to XLSX; agents may not', async () => {
    const date = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const res = await fetch(`${t.url}/api/v1/staff/invoices/export?date=${date}`, { headers: { Authorization: `Bearer ${finance}` } });
    expect(res.status).toBe(200);
    const ExcelJS = (await import('exceljs')).default;
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(Buffer.from(await res.arrayBuffer()) as any);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(3).value).toBe('类型');
    expect(ws.rowCount).toBeGreaterThan(5);
    // the status in Chinese, amounts as yuan numbers
    expect(ws.getRow(1).getCell(10).value).toBe('状态');
    const statuses = (ws.getColumn(10).values as unknown[]).slice(2);
    expect(statuses.length).toBeGreaterThan(4);
    for (const s of statuses) expect(['已申请', '开具中', '已开具', '开具失败', '已红冲']).toContain(s);
    expect(typeof ws.getRow(2).getCell(7).value).toBe('number');
    const agent = await t.loginStaff('agent1');
    expect((await t.call('GET', `/api/v1/staff/invoices?date=${date}`, { token: agent })).status).toBe(403);
  });
});
