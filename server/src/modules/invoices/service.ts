import type { Limiter } from '../../platform/limits';
import fs from 'node:fs';
import path from 'node:path';
import { Between, In, type DataSource, type EntityManager } from 'typeorm';
import {
  fenToYuanString,
  formatChinaTime,
  INVOICE_STATE_LABEL,
  INVOICE_TRANSITIONS,
  InvoiceTitleInput,
  invoiceTax,
  type CompanyRules,
  type InvoiceState,
  type InvoiceTitleView,
  type InvoiceView,
  type RequestInvoice,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { sheet, xlsxBuffer } from '../../platform/xlsx';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { enqueue, PermanentFailure, type OutboxWorker } from '../../platform/outbox';
import { applyTransition, recordTransition, SYSTEM, type Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { Mailer } from '../../platform/mail';
import type { LinkSigner } from '../../platform/signed-links';
import { ProviderError, type BillingOrder, type InvoiceProvider } from '../../invoicing/nuonuo';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { PaymentsService } from '../payments';
import type { PaymentOrder } from '../payments';
import { Invoice, InvoiceTitle, type TitleSnapshot } from './entities';

export const INVOICE_SUBMIT = 'invoices.submit';
export const INVOICE_POLL = 'invoices.poll';
export const INVOICE_RECONCILE = 'invoices.reconcile';
const MAX_TITLES = 20;
/** the provider-side fields of an invoice that has not been submitted yet */
const NOT_YET_SUBMITTED = {
  status: 'requested',
  providerSerial: null,
  number: null,
  issuedAt: null,
  providerPdfUrl: null,
  pdfFile: null,
  failure: null,
  attempts: 0,
} as const;
/** polls before an invoice still "issuing" is declared failed (about 10 minutes at 10 s) */
const MAX_POLLS = 60;

export interface InvoicesOptions {
  ds: DataSource;
  /** the per-resident mail quota (mail.resident) */
  limiter: Limiter;
  provider: InvoiceProvider;
  payments: PaymentsService;
  accounts: AccountsService;
  company: CompanyService;
  notifications: NotificationsService;
  mailer: Mailer;
  log: Logger;
  clock: () => Date;
  filesDir: string;
  /** signs download links (FILE_URL_SECRET) */
  links: LinkSigner;
  publicBaseUrl: string;
  /** between polls of an invoice being issued; default 10 s (tests: 0) */
  pollDelayMs?: number;
}

/**
 * E-invoices for payments: titles, one invoice per payment (its net amount), issuing through the
 * provider asynchronously via the outbox, red reversal and re-issue after refunds, delivery.
 */
export class InvoicesService {
  constructor(private o: InvoicesOptions) {}

  /** A resident mails one of their invoices, within their quota (mail.resident). */
  async mailForResident(residentId: number, invoiceId: number, email: string): Promise<void> {
    await this.forResident(residentId, invoiceId);
    const taken = await this.o.limiter.take([{ limit: 'mail.resident', subject: residentId }]);
    try {
      await this.mail(invoiceId, email);
    } catch (err) {
      // nothing was sent: the try doesn't count
      await taken.giveBack();
      throw err;
    }
  }

  private get ds() {
    return this.o.ds;
  }

  register(outbox: OutboxWorker): void {
    outbox.register(INVOICE_SUBMIT, (p: { invoiceId: number }) => this.submit(p.invoiceId));
    outbox.register(INVOICE_POLL, (p: { invoiceId: number; n?: number }) => this.poll(p.invoiceId, p.n ?? 1));
    outbox.register(INVOICE_RECONCILE, (p: { orderId: number }) => this.reconcileOrder(p.orderId));
    // after payment: automatically, when the payer keeps a default title
    this.o.payments.onPaid(async (em, orders) => {
      const rules = await this.o.company.rules();
      if (!rules.invoice.autoIssue) return;
      const titles = await em.find(InvoiceTitle, { where: { residentId: In([...new Set(orders.map((o) => o.residentId))]), isDefault: true } });
      for (const order of orders) {
        const title = titles.find((t) => t.residentId === order.residentId);
        if (!title) continue;
        const account = await this.o.accounts.account(order.accountId);
        if (title.kind === 'vat_special' && account?.use === 'residential') continue;
        await this.createBlue(em, order, snapshot(title), title.email, 1, rules, SYSTEM);
      }
    });
    // after a refund: reverse and re-issue so the invoice matches what was kept
    this.o.payments.onRefunded(async (em, order, refund) => {
      await enqueue(em, INVOICE_RECONCILE, { orderId: order.id }, { dedupeKey: `invoice-reconcile:${refund.outRefundNo}`, now: this.o.clock() });
    });
  }

  // ---- titles ----------------------------------------------------------------------------------

  async titles(residentId: number): Promise<InvoiceTitleView[]> {
    const rows = await this.ds.getRepository(InvoiceTitle).find({ where: { residentId }, order: { isDefault: 'DESC', id: 'ASC' } });
    return rows.map(titleView);
  }

  async saveTitle(residentId: number, input: InvoiceTitleInput, titleId?: number): Promise<InvoiceTitleView> {
    const t = InvoiceTitleInput.parse(input);
    return withTx(this.ds, async (em) => {
      let row: InvoiceTitle;
      if (titleId) {
        const found = await em.findOne(InvoiceTitle, { where: { id: titleId, residentId } });
        if (!found) throw new AppError('INVOICE_TITLE_NOT_FOUND');
        row = found;
      } else {
        if ((await em.count(InvoiceTitle, { where: { residentId } })) >= MAX_TITLES) throw new AppError('INVOICE_TITLE_LIMIT');
        row = em.create(InvoiceTitle, { residentId });
      }
      Object.assign(row, {
        kind: t.kind,
        name: t.name,
        taxId: t.taxId ?? null,
        taxIdConfirmed: t.confirmTaxId,
        address: t.address ?? null,
        phone: t.phone ?? null,
        bank: t.bank ?? null,
        bankAccount: t.bankAccount ?? null,
        email: t.email ?? null,
        isDefault: t.isDefault,
      });
      if (t.isDefault) await em.update(InvoiceTitle, { residentId, isDefault: true }, { isDefault: false });
      await em.save(row);
      return titleView(row);
    });
  }

  async deleteTitle(residentId: number, titleId: number): Promise<void> {
    const res = await this.ds.getRepository(InvoiceTitle).delete({ id: titleId, residentId });
    if (!res.affected) throw new AppError('INVOICE_TITLE_NOT_FOUND');
  }

  // ---- requesting --------------------------------------------------------------------------------

  /** The invoice of one payment. Asking twice gives the same invoice. */
  async request(residentId: number, req: RequestInvoice): Promise<InvoiceView> {
    const order = await this.o.payments.order(req.orderId);
    if (!order || (order.residentId !== residentId && !(await this.o.accounts.assertBound(residentId, order.accountId).then(() => true, () => false)))) {
      throw new AppError('ORDER_NOT_FOUND');
    }
    if (order.status !== 'paid') throw new AppError('INVOICE_ORDER_NOT_PAID');
    if (order.refundedFen >= order.amountFen) throw new AppError('INVOICE_ORDER_REFUNDED');
    const existing = await this.ds.getRepository(Invoice).findOne({ where: { orderId: order.id, direction: 'blue' }, order: { generation: 'DESC' } });
    if (existing) return this.view(existing);

    let title: TitleSnapshot;
    let email = req.email ?? null;
    if (req.titleId) {
      const row = await this.ds.getRepository(InvoiceTitle).findOne({ where: { id: req.titleId, residentId } });
      if (!row) throw new AppError('INVOICE_TITLE_NOT_FOUND');
      title = snapshot(row);
      email ??= row.email;
    } else {
      const saved = await this.saveTitle(residentId, req.title!);
      title = saved;
      email ??= saved.email;
    }
    const account = await this.o.accounts.account(order.accountId);
    if (title.kind === 'vat_special' && account?.use !== 'commercial') throw new AppError('INVOICE_SPECIAL_NOT_ALLOWED');
    const rules = await this.o.company.rules();
    const actor: Actor = { kind: 'resident', id: residentId, as: ['resident'] };
    try {
      const invoice = await withTx(this.ds, (em) => this.createBlue(em, order, title, email, 1, rules, actor));
      return this.view(invoice);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return this.view(await this.ds.getRepository(Invoice).findOneByOrFail({ requestKey: `blue:${order.id}:1` }));
    }
  }

  private async createBlue(
    em: EntityManager,
    order: PaymentOrder,
    title: TitleSnapshot,
    email: string | null,
    generation: number,
    rules: CompanyRules,
    actor: Actor,
  ): Promise<Invoice> {
    const account = await this.o.accounts.account(order.accountId);
    const amountFen = order.amountFen - order.refundedFen;
    const tax = invoiceTax(amountFen, account?.use ?? 'residential', rules.invoice);
    const row = em.create(Invoice, {
      requestKey: `blue:${order.id}:${generation}`,
      providerOrderNo: `${order.outTradeNo}B${generation}`,
      orderId: order.id,
      residentId: order.residentId,
      accountId: order.accountId,
      direction: 'blue',
      generation,
      originalInvoiceId: null,
      line: title.kind === 'vat_special' ? 'bs' : 'pc',
      title,
      email,
      amountFen,
      taxFen: tax.taxFen,
      rateLabel: tax.rateLabel,
      ...NOT_YET_SUBMITTED,
    });
    await em.save(row);
    await recordTransition(em, 'invoice', row.id, null, 'requested', actor);
    await enqueue(em, INVOICE_SUBMIT, { invoiceId: row.id }, { dedupeKey: `invoice-submit:${row.id}:0`, now: this.o.clock() });
    return row;
  }

  // ---- issuing (outbox jobs) ---------------------------------------------------------------------

  /** Submit to the provider (idempotent there by orderNo); then poll for the outcome. */
  async submit(invoiceId: number): Promise<void> {
    const inv = await this.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
    if (inv.status !== 'requested') return;
    const rules = await this.o.company.rules();
    await this.ds.getRepository(Invoice).update(inv.id, { attempts: inv.attempts + 1 });
    let serial: string;
    try {
      serial = (await this.o.provider.submit(await this.billingOrder(inv, rules))).serial;
    } catch (err) {
      if (err instanceof ProviderError && !err.retryable) {
        await this.move(inv.id, 'failed', `${err.code} ${err.message}`.slice(0, 200));
        throw new PermanentFailure(`invoice ${inv.id}: ${err.code}`);
      }
      // busy or timed out: the outbox retries with backoff; a repeat is safe (same orderNo)
      if (inv.attempts + 1 >= 6) await this.move(inv.id, 'failed', `开票服务暂不可用：${(err as Error).message}`.slice(0, 200));
      throw err;
    }
    await withTx(this.ds, async (em) => {
      const row = await this.lock(em, inv.id);
      if (row.status !== 'requested') return;
      await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, 'issuing', SYSTEM);
      await em.update(Invoice, row.id, { status: 'issuing', providerSerial: serial, failure: null });
      await enqueue(em, INVOICE_POLL, { invoiceId: row.id, n: 1 }, { delayMs: this.o.pollDelayMs ?? 10_000, now: this.o.clock() });
    });
  }

  /** Ask the provider how an invoice is doing; archive and deliver it once issued. */
  async poll(invoiceId: number, n = 1): Promise<void> {
    const inv = await this.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
    if (inv.status !== 'issuing' || !inv.providerSerial) return;
    const [result] = await this.o.provider.query([inv.providerSerial]);
    if (result?.status === '22' || result?.status === '24') {
      await this.move(inv.id, 'failed', (result.failCause ?? result.statusMsg).slice(0, 200));
      return;
    }
    if (!result || result.status !== '2' || !result.allElectronicInvoiceNumbe) {
      // still issuing: look again later, a bounded number of times
      if (n >= MAX_POLLS) {
        await this.move(inv.id, 'failed', '开票超时，请重试');
        return;
      }
      await withTx(this.ds, (em) => enqueue(em, INVOICE_POLL, { invoiceId: inv.id, n: n + 1 }, { delayMs: this.o.pollDelayMs ?? 10_000, now: this.o.clock() }));
      return;
    }
    // archive our own copy: the provider's link may expire
    const pdfFile = result.pdfUrl ? await this.archive(result.pdfUrl, result.allElectronicInvoiceNumbe) : null;
    const issuedAt = result.invoiceTime ? new Date(result.invoiceTime) : this.o.clock();
    await withTx(this.ds, async (em) => {
      const row = await this.lock(em, inv.id);
      if (row.status !== 'issuing') return;
      await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, 'issued', SYSTEM, null, { number: result.allElectronicInvoiceNumbe });
      await em.update(Invoice, row.id, { status: 'issued', number: result.allElectronicInvoiceNumbe, issuedAt, providerPdfUrl: result.pdfUrl ?? null, pdfFile, failure: null });
      if (row.direction === 'red' && row.originalInvoiceId) {
        const original = await this.lock(em, row.originalInvoiceId);
        await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: original.id, state: original.status }, 'reversed', SYSTEM, '服务中止（退费）红冲', { redInvoiceId: row.id });
        await em.update(Invoice, original.id, { status: 'reversed' });
      }
      if (row.direction === 'blue') {
        await this.o.notifications.toResident(
          em,
          row.residentId,
          'invoiceIssued',
          {
            character_string1: result.allElectronicInvoiceNumbe!,
            amount2: `${fenToYuanString(row.amountFen)}元`,
            thing3: row.title.name.slice(0, 20),
            time4: formatChinaTime(issuedAt),
          },
          { page: `pages/invoices/index`, dedupeKey: `invoice-issued:${row.id}`, now: this.o.clock() },
        );
      }
      await enqueue(em, INVOICE_RECONCILE, { orderId: row.orderId }, { dedupeKey: `invoice-reconcile:issued:${row.id}`, now: this.o.clock() });
    });
    if (inv.direction === 'blue' && inv.email && pdfFile) {
      await this.mail(inv.id, inv.email).catch((err) => this.o.log.warn({ invoiceId: inv.id, err: { message: err?.message } }, 'invoice mail failed'));
    }
  }

  /**
   * Make the invoices of a payment match what the resident finally paid: an issued blue invoice
   * whose amount differs from the payment's net is reversed (red), then re-issued for the net.
   * Convergent and re-runnable: called after refunds and after every issue.
   */
  async reconcileOrder(orderId: number): Promise<void> {
    const order = await this.o.payments.order(orderId);
    if (!order) return;
    const rules = await this.o.company.rules();
    await withTx(this.ds, async (em) => {
      const invoices = await forUpdate(em.createQueryBuilder(Invoice, 'i').where('i.orderId = :id', { id: orderId }).orderBy('i.id', 'ASC')).getMany();
      const blues = invoices.filter((i) => i.direction === 'blue');
      const current = blues.at(-1);
      if (!current) return;
      const net = order.amountFen - order.refundedFen;
      if (current.status === 'issued' && current.amountFen !== net) {
        if (!invoices.some((i) => i.direction === 'red' && i.originalInvoiceId === current.id)) await this.createRed(em, current);
      } else if (current.status === 'reversed' && net > 0) {
        await this.createBlue(em, order, current.title, current.email, current.generation + 1, rules, SYSTEM);
      }
    });
  }

  private async createRed(em: EntityManager, original: Invoice): Promise<void> {
    const row = em.create(Invoice, {
      ...original,
      id: undefined,
      requestKey: `red:${original.id}`,
      providerOrderNo: `${original.providerOrderNo}R`,
      direction: 'red',
      originalInvoiceId: original.id,
      amountFen: -original.amountFen,
      taxFen: -original.taxFen,
      ...NOT_YET_SUBMITTED,
      createdAt: undefined,
      updatedAt: undefined,
    } as any) as unknown as Invoice;
    await em.save(row);
    await recordTransition(em, 'invoice', row.id, null, 'requested', SYSTEM, '退费红冲');
    await enqueue(em, INVOICE_SUBMIT, { invoiceId: row.id }, { dedupeKey: `invoice-submit:${row.id}:0`, now: this.o.clock() });
  }

  private async billingOrder(inv: Invoice, rules: CompanyRules): Promise<BillingOrder> {
    const account = await this.o.accounts.account(inv.accountId);
    const tax = invoiceTax(Math.abs(inv.amountFen), account?.use ?? 'residential', rules.invoice);
    const sign = inv.direction === 'red' ? -1 : 1;
    const yuan = (fen: number) => fenToYuanString(sign * fen);
    const original = inv.originalInvoiceId ? await this.ds.getRepository(Invoice).findOneBy({ id: inv.originalInvoiceId }) : null;
    const t = inv.title;
    return {
      orderNo: inv.providerOrderNo,
      invoiceDate: formatChinaTime(this.o.clock(), true),
      buyerName: t.name,
      ...(t.taxId ? { buyerTaxNum: t.taxId } : {}),
      ...(t.phone ? { buyerTel: t.phone } : {}),
      ...(t.address ? { buyerAddress: t.address } : {}),
      ...(t.bank ? { buyerAccount: `${t.bank} ${t.bankAccount ?? ''}`.trim() } : {}),
      salerTaxNum: rules.invoice.sellerTaxId,
      invoiceType: inv.direction === 'red' ? '2' : '1',
      invoiceLine: inv.line,
      pushMode: '-1',
      naturalPersonFlag: t.kind === 'personal' ? '1' : '0',
      remark: `户号${account?.accountNo ?? ''}`,
      ...(original?.number ? { oldEleInvoiceNumber: original.number, redReason: '服务中止' } : {}),
      invoiceDetail: [
        {
          goodsName: rules.invoice.goodsName,
          goodsCode: rules.invoice.goodsCode,
          num: String(sign),
          price: fenToYuanString(Math.abs(inv.amountFen)),
          withTaxFlag: '1',
          taxRate: tax.exempt ? '0' : String(tax.rateBp / 10000),
          tax: yuan(tax.taxFen),
          taxExcludedAmount: yuan(tax.netFen),
          taxIncludedAmount: yuan(Math.abs(inv.amountFen)),
          invoiceLineProperty: '0',
          ...(tax.exempt ? { favouredPolicyFlag: '03' } : {}),
        },
      ],
    };
  }

  private async archive(url: string, number: string): Promise<string | null> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      if (!res.ok) throw new Error(`PDF download answered ${res.status}`);
      const bytes = Buffer.from(await res.arrayBuffer());
      const rel = path.join('invoices', `${number}.pdf`);
      const full = path.join(this.o.filesDir, rel);
      await fs.promises.mkdir(path.dirname(full), { recursive: true });
      await fs.promises.writeFile(full, bytes);
      return rel;
    } catch (err: any) {
      // issued all the same; the provider's link still works, archiving is retried on download
      this.o.log.warn({ number, err: { message: err?.message } }, 'invoice PDF not archived');
      return null;
    }
  }

  private async move(invoiceId: number, to: InvoiceState, failure: string | null, actor: Actor = SYSTEM): Promise<void> {
    await withTx(this.ds, async (em) => {
      const row = await this.lock(em, invoiceId);
      if (row.status === to) return;
      await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, to, actor, failure);
      // a retry after a failure is a new order at the provider (the failed one stays failed there)
      const providerOrderNo = to === 'requested' ? `${row.providerOrderNo.split('T')[0]}T${row.attempts}` : row.providerOrderNo;
      await em.update(Invoice, row.id, { status: to, failure, providerOrderNo, ...(to === 'requested' ? { providerSerial: null } : {}) });
      if (to === 'requested') await enqueue(em, INVOICE_SUBMIT, { invoiceId: row.id }, { dedupeKey: `invoice-submit:${row.id}:${row.attempts}`, now: this.o.clock() });
    });
  }

  private async lock(em: EntityManager, id: number): Promise<Invoice> {
    const row = await forUpdate(em.createQueryBuilder(Invoice, 'i').where('i.id = :id', { id })).getOne();
    if (!row) throw new AppError('INVOICE_NOT_FOUND');
    return row;
  }

  // ---- delivery ---------------------------------------------------------------------------------

  async listForResident(residentId: number): Promise<InvoiceView[]> {
    const bound = await this.o.accounts.listBound(residentId);
    const where: any[] = [{ residentId }];
    if (bound.length) where.push({ accountId: In(bound.map((b) => b.accountId)) });
    const rows = await this.ds.getRepository(Invoice).find({ where, order: { id: 'DESC' }, take: 100 });
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async forResident(residentId: number, invoiceId: number): Promise<Invoice> {
    const inv = await this.ds.getRepository(Invoice).findOneBy({ id: invoiceId });
    if (!inv) throw new AppError('INVOICE_NOT_FOUND');
    if (inv.residentId !== residentId && !(await this.o.accounts.assertBound(residentId, inv.accountId).then(() => true, () => false))) {
      throw new AppError('INVOICE_NOT_FOUND');
    }
    return inv;
  }

  async viewForResident(residentId: number, invoiceId: number): Promise<InvoiceView> {
    return this.view(await this.forResident(residentId, invoiceId));
  }

  /** The PDF bytes: our archived copy (archived now if it was missed). */
  async pdf(invoiceId: number): Promise<{ bytes: Buffer; filename: string }> {
    const inv = await this.ds.getRepository(Invoice).findOneBy({ id: invoiceId });
    if (!inv) throw new AppError('INVOICE_NOT_FOUND');
    if (!inv.number || (inv.status !== 'issued' && inv.status !== 'reversed')) throw new AppError('INVOICE_NOT_READY');
    let file = inv.pdfFile;
    if (!file && inv.providerPdfUrl) {
      file = await this.archive(inv.providerPdfUrl, inv.number);
      if (file) await this.ds.getRepository(Invoice).update(inv.id, { pdfFile: file });
    }
    if (!file) throw new AppError('INVOICE_NOT_READY');
    return { bytes: await fs.promises.readFile(path.join(this.o.filesDir, file)), filename: `电子发票-${inv.number}.pdf` };
  }

  async mail(invoiceId: number, email: string): Promise<void> {
    const inv = await this.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
    const { bytes, filename } = await this.pdf(invoiceId);
    try {
      await this.o.mailer.send({
        to: email,
        subject: `您的供暖费电子发票（${inv.number}）`,
        text: `您好：\n\n附件是您缴纳供暖费的电子发票，发票号码 ${inv.number}，金额 ¥${fenToYuanString(inv.amountFen)}。\n\n此邮件由系统自动发送，请勿回复。`,
        attachments: [{ filename, content: bytes, contentType: 'application/pdf' }],
      });
    } catch (err: any) {
      this.o.log.warn({ invoiceId, err: { message: err?.message } }, 'invoice mail failed');
      throw new AppError('MAIL_UNAVAILABLE');
    }
  }

  /** A download link valid for 10 minutes (WeChat's downloadFile and a browser can both use it). */
  signedPdfUrl(invoiceId: number, now = this.o.clock()): string {
    const { exp, sig } = this.o.links.sign(`invoice:${invoiceId}`, 600, 1, now);
    return `${this.o.publicBaseUrl}/api/v1/invoice-files/${invoiceId}?exp=${exp}&sig=${sig}`;
  }

  verifyPdfLink(invoiceId: number, exp: number, sig: string): boolean {
    return this.o.links.verify(`invoice:${invoiceId}`, exp, sig);
  }

  // ---- finance ----------------------------------------------------------------------------------

  /** Invoices created on a China date, with counts per status. */
  async day(date: string, status?: InvoiceState) {
    const start = new Date(`${date}T00:00:00+08:00`);
    const ofDay = await this.ds.getRepository(Invoice).find({
      where: { createdAt: Between(start, new Date(start.getTime() + 86_400_000 - 1)) },
      order: { id: 'ASC' },
    });
    const counts: Record<string, number> = {};
    for (const r of ofDay) counts[r.status] = (counts[r.status] ?? 0) + 1;
    const items = await Promise.all(ofDay.filter((r) => !status || r.status === status).map((r) => this.view(r)));
    return { date, counts, items };
  }

  async retry(staff: { staffId: number; roles: readonly string[] }, invoiceId: number): Promise<InvoiceView> {
    const inv = await this.ds.getRepository(Invoice).findOneBy({ id: invoiceId });
    if (!inv) throw new AppError('INVOICE_NOT_FOUND');
    if (inv.status !== 'failed') throw new AppError('INVOICE_NOT_RETRYABLE');
    await this.move(inv.id, 'requested', null, { kind: 'staff', id: staff.staffId, as: staff.roles });
    return this.view(await this.ds.getRepository(Invoice).findOneByOrFail({ id: inv.id }));
  }

  async exportDay(date: string): Promise<Buffer> {
    const { items } = await this.day(date);
    return xlsxBuffer([
      sheet<InvoiceView>({
        name: `发票 ${date}`,
        rows: items,
        columns: [
          { header: '发票ID', width: 10, value: (i) => i.id, format: 'int' },
          { header: '支付订单ID', width: 12, value: (i) => i.orderId, format: 'int' },
          { header: '类型', width: 26, value: (i) => i.typeLabel },
          { header: '蓝/红', width: 8, value: (i) => (i.direction === 'red' ? '红字' : '蓝字') },
          { header: '抬头', width: 28, value: (i) => i.titleName },
          { header: '纳税人识别号', width: 22, value: (i) => i.taxId, format: 'text' },
          { header: '金额（元）', width: 14, value: (i) => i.amountFen, format: 'yuan' },
          { header: '税率', width: 8, value: (i) => i.rateLabel },
          { header: '税额（元）', width: 12, value: (i) => i.taxFen, format: 'yuan' },
          { header: '状态', width: 10, value: (i) => INVOICE_STATE_LABEL[i.status] },
          { header: '发票号码', width: 24, value: (i) => i.number, format: 'text' },
          { header: '开票时间', width: 20, value: (i) => i.issuedAt, format: 'chinaTime' },
          { header: '失败原因', width: 30, value: (i) => i.failure },
        ],
      }),
    ]);
  }

  async view(inv: Invoice): Promise<InvoiceView> {
    const related =
      inv.direction === 'red'
        ? inv.originalInvoiceId
        : ((await this.ds.getRepository(Invoice).findOne({ where: { originalInvoiceId: inv.id, direction: 'red' } }))?.id ?? null);
    return {
      id: inv.id,
      orderId: inv.orderId,
      direction: inv.direction,
      typeLabel: `电子发票（${inv.line === 'bs' ? '增值税专用发票' : '普通发票'}）${inv.direction === 'red' ? '红字' : ''}`,
      titleName: inv.title.name,
      taxId: inv.title.taxId,
      amountFen: inv.amountFen,
      taxFen: inv.taxFen,
      rateLabel: inv.rateLabel,
      status: inv.status,
      number: inv.number,
      issuedAt: inv.issuedAt ? inv.issuedAt.toISOString() : null,
      failure: inv.failure,
      pdfUrl: inv.number && (inv.pdfFile || inv.providerPdfUrl) ? this.signedPdfUrl(inv.id) : null,
      createdAt: inv.createdAt.toISOString(),
      relatedInvoiceId: related,
    };
  }
}

function snapshot(t: InvoiceTitle | InvoiceTitleView): TitleSnapshot {
  return { kind: t.kind, name: t.name, taxId: t.taxId, address: t.address, phone: t.phone, bank: t.bank, bankAccount: t.bankAccount };
}

function titleView(t: InvoiceTitle): InvoiceTitleView {
  return {
    id: t.id,
    kind: t.kind,
    name: t.name,
    taxId: t.taxId,
    taxIdConfirmed: t.taxIdConfirmed,
    address: t.address,
    phone: t.phone,
    bank: t.bank,
    bankAccount: t.bankAccount,
    email: t.email,
    isDefault: t.isDefault,
  };
}
