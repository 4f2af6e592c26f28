import type { Limiter } from '../../platform/limits';
import { Between, In, type DataSource } from 'typeorm';
import {
  InvoiceTitleInput as TitleInput,
  INVOICE_STATE_LABEL,
  type ChangeInvoiceTitle,
  type InvoiceState,
  type InvoiceTitleInput,
  type InvoiceTitleView,
  type InvoiceView,
  type RequestInvoice,
} from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { sheet, xlsxBuffer } from '../../platform/xlsx';
import { isUniqueViolation, withTx } from '../../platform/db/data-source';
import type { Actor } from '../../platform/state';
import type { Logger } from '../../platform/logger';
import type { Mailer } from '../../platform/mail';
import type { LinkSigner } from '../../platform/signed-links';
import type { InvoiceProvider } from '../../invoicing/nuonuo';
import type { AccountsService } from '../accounts';
import type { CompanyService } from '../company';
import type { NotificationsService } from '../notifications';
import type { PaymentsService } from '../payments';
import { Invoice, InvoiceTitle, type NextTitle, type TitleSnapshot } from './entities';
import { InvoiceDocuments } from './documents';
import { InvoiceIssuing } from './issuing';
import { InvoiceTitles, snapshot } from './titles';

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
 * E-invoices for payments: titles (titles.ts), one invoice per payment (its net amount), issuing
 * through the provider asynchronously via the outbox, red reversal and re-issue after refunds
 * (issuing.ts), the PDF and its delivery (documents.ts). Reacts to payment.credited and
 * refund.succeeded after commit (reactions.ts).
 */
export class InvoicesService {
  private titleBook: InvoiceTitles;
  private documents: InvoiceDocuments;
  /** issuing, also for the outbox jobs and event reactions (reactions.ts) */
  readonly issuing: InvoiceIssuing;

  constructor(private o: InvoicesOptions) {
    this.titleBook = new InvoiceTitles(o);
    this.documents = new InvoiceDocuments(o);
    this.issuing = new InvoiceIssuing(o, this.documents);
  }

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

  // ---- titles (titles.ts) -------------------------------------------------------------------------

  titles(residentId: number): Promise<InvoiceTitleView[]> {
    return this.titleBook.titles(residentId);
  }

  saveTitle(residentId: number, input: InvoiceTitleInput, titleId?: number): Promise<InvoiceTitleView> {
    return this.titleBook.saveTitle(residentId, input, titleId);
  }

  deleteTitle(residentId: number, titleId: number): Promise<void> {
    return this.titleBook.deleteTitle(residentId, titleId);
  }

  // ---- requesting --------------------------------------------------------------------------------

  /**
   * The invoice of one payment. Asking twice gives the same invoice; asking with another title
   * once it exists is refused (INVOICE_EXISTS_OTHER_TITLE, with the invoice's id): changing the
   * title reverses the invoice, so the resident confirms it (changeTitle).
   */
  async request(residentId: number, req: RequestInvoice): Promise<InvoiceView> {
    const order = await this.paidOrderOf(residentId, req.orderId);
    const existing = await this.ds.getRepository(Invoice).findOne({ where: { orderId: order.id, direction: 'blue' }, order: { generation: 'DESC' } });
    if (existing) {
      const asked = await this.resolveTitle(residentId, req, false);
      const now = existing.nextTitle ?? existing.title;
      if (JSON.stringify(snapshot(asked.title)) !== JSON.stringify(snapshot(now))) {
        throw new AppError('INVOICE_EXISTS_OTHER_TITLE', { invoiceId: existing.id, titleName: now.name });
      }
      return this.view(existing);
    }
    const { title, email } = await this.resolveTitle(residentId, req, true);
    await this.assertKindAllowed(title, order.accountId);
    const rules = await this.o.company.rules();
    const actor: Actor = { kind: 'resident', id: residentId, as: ['resident'] };
    try {
      const invoice = await withTx(this.ds, (em) => this.issuing.createBlue(em, order, title, email, 1, rules, actor));
      return this.view(invoice);
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      return this.view(await this.ds.getRepository(Invoice).findOneByOrFail({ requestKey: `blue:${order.id}:1` }));
    }
  }

  /**
   * Change the title of a payment's invoice (once per payment): red reversal, then the same
   * amount issued again with the new title; the resident sees it on the invoice page and gets the
   * 开票成功 message for the new invoice.
   */
  async changeTitle(residentId: number, invoiceId: number, req: ChangeInvoiceTitle): Promise<InvoiceView> {
    const inv = await this.forResident(residentId, invoiceId);
    const order = await this.paidOrderOf(residentId, inv.orderId);
    const { title, email } = await this.resolveTitle(residentId, req, false);
    await this.assertKindAllowed(title, order.accountId);
    const next: NextTitle = { ...title, email: email ?? inv.email };
    const currentId = await this.issuing.changeTitle(order.id, next, { kind: 'resident', id: residentId, as: ['resident'] });
    // a new title joins the resident's titles once the change is accepted (a full book keeps the change)
    if (req.title) await this.saveTitle(residentId, req.title).catch((err) => this.o.log.info({ err: { message: err?.message } }, 'changed title not saved'));
    return this.view(await this.ds.getRepository(Invoice).findOneByOrFail({ id: currentId }));
  }

  /** A paid, not fully refunded payment of the resident (or of an account they are bound to). */
  private async paidOrderOf(residentId: number, orderId: number) {
    const order = await this.o.payments.order(orderId);
    if (
      !order ||
      (order.residentId !== residentId &&
        !(await this.o.accounts.assertBound(residentId, order.accountId).then(
          () => true,
          () => false,
        )))
    ) {
      throw new AppError('ORDER_NOT_FOUND');
    }
    if (order.status !== 'paid') throw new AppError('INVOICE_ORDER_NOT_PAID');
    if (order.refundedFen >= order.amountFen) throw new AppError('INVOICE_ORDER_REFUNDED');
    return order;
  }

  /** The title asked for: a saved one, or a new one (saved to the resident's titles when `save`). */
  private async resolveTitle(
    residentId: number,
    req: { titleId?: number; title?: InvoiceTitleInput; email?: string },
    save: boolean,
  ): Promise<{ title: TitleSnapshot; email: string | null }> {
    const email = req.email ?? null;
    if (req.titleId) {
      const row = await this.ds.getRepository(InvoiceTitle).findOne({ where: { id: req.titleId, residentId } });
      if (!row) throw new AppError('INVOICE_TITLE_NOT_FOUND');
      return { title: snapshot(row), email: email ?? row.email };
    }
    if (save) {
      const saved = await this.saveTitle(residentId, req.title!);
      return { title: snapshot(saved), email: email ?? saved.email };
    }
    const t = TitleInput.parse(req.title);
    const title = snapshot({
      kind: t.kind,
      name: t.name,
      taxId: t.taxId ?? null,
      address: t.address ?? null,
      phone: t.phone ?? null,
      bank: t.bank ?? null,
      bankAccount: t.bankAccount ?? null,
    });
    return { title, email: email ?? t.email ?? null };
  }

  /** 专票 only for commercial heat (residential heat is tax-exempt). */
  private async assertKindAllowed(title: TitleSnapshot, accountId: number): Promise<void> {
    if (title.kind !== 'vat_special') return;
    const account = await this.o.accounts.account(accountId);
    if (account?.use !== 'commercial') throw new AppError('INVOICE_SPECIAL_NOT_ALLOWED');
  }

  // ---- issuing (issuing.ts) -----------------------------------------------------------------------

  /** Submit to the provider (idempotent there by orderNo); then poll for the outcome. */
  submit(invoiceId: number): Promise<void> {
    return this.issuing.submit(invoiceId);
  }

  /** Make the invoices of a payment match what the resident finally paid (red reversal, re-issue). */
  reconcileOrder(orderId: number): Promise<void> {
    return this.issuing.reconcileOrder(orderId);
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
    if (
      inv.residentId !== residentId &&
      !(await this.o.accounts.assertBound(residentId, inv.accountId).then(
        () => true,
        () => false,
      ))
    ) {
      throw new AppError('INVOICE_NOT_FOUND');
    }
    return inv;
  }

  async viewForResident(residentId: number, invoiceId: number): Promise<InvoiceView> {
    return this.view(await this.forResident(residentId, invoiceId));
  }

  // ---- the PDF (documents.ts) -------------------------------------------------------------------------

  /** The PDF bytes: our archived copy (archived now if it was missed). */
  pdf(invoiceId: number): Promise<{ bytes: Buffer; filename: string }> {
    return this.documents.pdf(invoiceId);
  }

  mail(invoiceId: number, email: string): Promise<void> {
    return this.documents.mail(invoiceId, email);
  }

  verifyPdfLink(invoiceId: number, exp: number, sig: string): boolean {
    return this.documents.verifyPdfLink(invoiceId, exp, sig);
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
    await this.issuing.move(inv.id, 'requested', null, { kind: 'staff', id: staff.staffId, as: staff.roles });
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
    const ofOrder = await this.ds.getRepository(Invoice).find({ where: { orderId: inv.orderId }, order: { id: 'ASC' } });
    const blues = ofOrder.filter((i) => i.direction === 'blue');
    const current = blues.at(-1);
    const related =
      inv.direction === 'red' ? inv.originalInvoiceId : (ofOrder.find((i) => i.direction === 'red' && i.originalInvoiceId === inv.id)?.id ?? null);
    // the invoice issued in place of a reversed one: the next generation of the payment's blue invoice
    const replacedGeneration = inv.direction === 'red' ? ofOrder.find((i) => i.id === inv.originalInvoiceId)?.generation : inv.generation;
    const next =
      replacedGeneration !== undefined && (inv.direction === 'red' || inv.status === 'reversed')
        ? blues.find((b) => b.generation === replacedGeneration + 1)
        : undefined;
    const retitled = blues.some((b) => b.retitles > 0 || !!b.nextTitle);
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
      pdfUrl: inv.number && (inv.pdfFile || inv.providerPdfUrl) ? this.documents.signedPdfUrl(inv.id) : null,
      createdAt: inv.createdAt.toISOString(),
      relatedInvoiceId: related,
      redReason: inv.direction === 'red' ? (inv.redReason ?? 'refund') : null,
      // until the invoice with the new title exists (then `replacement` tells)
      pendingTitleName: inv.nextTitle && !next ? inv.nextTitle.name : null,
      replacement: next ? { id: next.id, titleName: next.title.name, status: next.status, amountFen: next.amountFen } : null,
      retitled,
      canChangeTitle: inv.direction === 'blue' && current?.id === inv.id && inv.status !== 'reversed' && !retitled,
    };
  }
}
