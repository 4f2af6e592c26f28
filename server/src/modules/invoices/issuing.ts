import { In, type EntityManager } from 'typeorm';
import { fenToYuanString, formatChinaTime, INVOICE_TRANSITIONS, invoiceTax, type CompanyRules, type InvoiceState } from '@heat-butler/shared';
import { AppError } from '../../platform/errors';
import { forUpdate, isUniqueViolation, withTx } from '../../platform/db/data-source';
import { enqueue, outboxTopic, PermanentFailure } from '../../platform/outbox';
import { applyTransition, recordTransition, SYSTEM, type Actor } from '../../platform/state';
import { ProviderError, type BillingOrder } from '../../invoicing/nuonuo';
import type { PaymentOrder } from '../payments';
import { Invoice, InvoiceTitle, type NextTitle, type RedReason, type TitleSnapshot } from './entities';
import type { InvoiceDocuments } from './documents';
import type { InvoicesOptions } from './service';
import { snapshot } from './titles';
import { invoiceIssued } from '../../platform/metrics';

/** Outbox jobs: submit an invoice to the provider, poll it, make a payment's invoices match it. */
export const INVOICE_SUBMIT = outboxTopic<{ invoiceId: number }>('invoices.submit');
export const INVOICE_POLL = outboxTopic<{ invoiceId: number; n?: number }>('invoices.poll');
export const INVOICE_RECONCILE = outboxTopic<{ orderId: number }>('invoices.reconcile');

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

/**
 * Issuing through the provider asynchronously via the outbox: blue invoices (on request or
 * automatically after payment), red reversal and re-issue after refunds.
 */
export class InvoiceIssuing {
  constructor(
    private o: InvoicesOptions,
    private documents: InvoiceDocuments,
  ) {}

  /**
   * After payment (the payment.credited reaction, after commit): an invoice for each order whose
   * payer keeps a default title, when the company issues automatically. One invoice per order for
   * what the order paid: a 一键缴清 order is reported once per bill it settled, and invoiced once
   * for the lines' total (one payment, one invoice, reversed and re-issued as a whole on a refund).
   * Re-runnable: an order that already has its invoice (asked for meanwhile, or a repeat of this
   * reaction) is skipped.
   */
  async autoIssue(reported: readonly { orderId: number; residentId: number; accountId: number }[]): Promise<void> {
    const rules = await this.o.company.rules();
    const credited = [...new Map(reported.map((c) => [c.orderId, c])).values()];
    if (!rules.invoice.autoIssue || !credited.length) return;
    const titles = await this.o.ds
      .getRepository(InvoiceTitle)
      .find({ where: { residentId: In([...new Set(credited.map((c) => c.residentId))]), isDefault: true } });
    for (const c of credited) {
      const title = titles.find((t) => t.residentId === c.residentId);
      if (!title) continue;
      const account = await this.o.accounts.account(c.accountId);
      if (title.kind === 'vat_special' && account?.use === 'residential') continue;
      const order = await this.o.payments.order(c.orderId);
      if (!order || order.status !== 'paid' || order.amountFen - order.refundedFen <= 0) continue;
      try {
        await withTx(this.o.ds, async (em) => {
          if (await em.findOne(Invoice, { where: { orderId: order.id, direction: 'blue' } })) return;
          await this.createBlue(em, order, snapshot(title), title.email, 1, rules, SYSTEM);
        });
      } catch (err) {
        // the resident asked for it at the same moment: one invoice (requestKey) either way
        if (!isUniqueViolation(err)) throw err;
      }
    }
  }

  async createBlue(
    em: EntityManager,
    order: PaymentOrder,
    title: TitleSnapshot,
    email: string | null,
    generation: number,
    rules: CompanyRules,
    actor: Actor,
    retitles = 0,
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
      line: lineOf(title),
      title,
      email,
      retitles,
      nextTitle: null,
      redReason: null,
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
    const inv = await this.o.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
    if (inv.status !== 'requested') return;
    const rules = await this.o.company.rules();
    await this.o.ds.getRepository(Invoice).update(inv.id, { attempts: inv.attempts + 1 });
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
    await withTx(this.o.ds, async (em) => {
      const row = await this.lock(em, inv.id);
      if (row.status !== 'requested') return;
      await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, 'issuing', SYSTEM);
      await em.update(Invoice, row.id, { status: 'issuing', providerSerial: serial, failure: null });
      await enqueue(em, INVOICE_POLL, { invoiceId: row.id, n: 1 }, { delayMs: this.o.pollDelayMs ?? 10_000, now: this.o.clock() });
    });
  }

  /** Ask the provider how an invoice is doing; archive and deliver it once issued. */
  async poll(invoiceId: number, n = 1): Promise<void> {
    const inv = await this.o.ds.getRepository(Invoice).findOneByOrFail({ id: invoiceId });
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
      await withTx(this.o.ds, (em) =>
        enqueue(em, INVOICE_POLL, { invoiceId: inv.id, n: n + 1 }, { delayMs: this.o.pollDelayMs ?? 10_000, now: this.o.clock() }),
      );
      return;
    }
    // archive our own copy: the provider's link may expire
    const pdfFile = result.pdfUrl ? await this.documents.archive(result.pdfUrl, result.allElectronicInvoiceNumbe) : null;
    const issuedAt = result.invoiceTime ? new Date(result.invoiceTime) : this.o.clock();
    await withTx(this.o.ds, async (em) => {
      const row = await this.lock(em, inv.id);
      if (row.status !== 'issuing') return;
      await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, 'issued', SYSTEM, null, {
        number: result.allElectronicInvoiceNumbe,
      });
      await em.update(Invoice, row.id, {
        status: 'issued',
        number: result.allElectronicInvoiceNumbe,
        issuedAt,
        providerPdfUrl: result.pdfUrl ?? null,
        pdfFile,
        failure: null,
      });
      invoiceIssued(row.createdAt, this.o.clock());
      if (row.direction === 'red' && row.originalInvoiceId) {
        const original = await this.lock(em, row.originalInvoiceId);
        await applyTransition(
          em,
          INVOICE_TRANSITIONS,
          { type: 'invoice', id: original.id, state: original.status },
          'reversed',
          SYSTEM,
          row.redReason === 'retitle' ? '更换抬头红冲' : '服务中止（退费）红冲',
          { redInvoiceId: row.id },
        );
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
            thing3: (row.retitles && row.generation > 1 ? `换开：${row.title.name}` : row.title.name).slice(0, 20),
            time4: formatChinaTime(issuedAt),
          },
          { page: `pages/invoices/index`, dedupeKey: `invoice-issued:${row.id}`, now: this.o.clock() },
        );
      }
      await enqueue(em, INVOICE_RECONCILE, { orderId: row.orderId }, { dedupeKey: `invoice-reconcile:issued:${row.id}`, now: this.o.clock() });
    });
    if (inv.direction === 'blue' && inv.email && pdfFile) {
      await this.documents
        .mail(inv.id, inv.email)
        .catch((err) => this.o.log.warn({ invoiceId: inv.id, err: { message: err?.message } }, 'invoice mail failed'));
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
    await withTx(this.o.ds, async (em) => {
      const invoices = await this.lockOfOrder(em, orderId);
      const blues = invoices.filter((i) => i.direction === 'blue');
      const current = blues.at(-1);
      if (!current) return;
      const net = order.amountFen - order.refundedFen;
      if (current.status === 'issued' && (current.amountFen !== net || current.nextTitle)) {
        const reason: RedReason = current.amountFen !== net ? 'refund' : 'retitle';
        if (!invoices.some((i) => i.direction === 'red' && i.originalInvoiceId === current.id)) await this.createRed(em, current, reason);
      } else if (current.status === 'reversed' && net > 0) {
        // re-issued for the net amount, with the new title when the resident changed it
        const next = current.nextTitle;
        const title: TitleSnapshot = next ? snapshot(next) : current.title;
        const retitles = current.retitles + (next ? 1 : 0);
        await this.createBlue(em, order, title, next ? next.email : current.email, current.generation + 1, rules, SYSTEM, retitles);
      }
    });
  }

  /**
   * The resident changes the title of a payment's invoice (once per payment): the current invoice
   * is reversed with a red one and issued again with the new title (reconcileOrder, after the red
   * one is issued). An invoice still being issued is changed once it is issued (reconcileOrder runs
   * after every issue); a failed one is simply issued again with the new title.
   */
  async changeTitle(orderId: number, next: NextTitle, actor: Actor): Promise<number> {
    return withTx(this.o.ds, async (em) => {
      const invoices = await this.lockOfOrder(em, orderId);
      const blues = invoices.filter((i) => i.direction === 'blue');
      const current = blues.at(-1);
      if (!current) throw new AppError('INVOICE_NOT_FOUND');
      if (blues.some((b) => b.retitles > 0 || b.nextTitle)) throw new AppError('INVOICE_TITLE_CHANGED_ONCE');
      if (sameTitle(current.title, next)) throw new AppError('INVOICE_TITLE_UNCHANGED');
      if (current.status === 'failed') {
        // nothing was issued: issue this one again, with the new title (a new order at the provider)
        await em.update(Invoice, current.id, { title: snapshot(next), email: next.email, line: lineOf(next), retitles: current.retitles + 1 });
        await this.moveIn(em, current, 'requested', '更换抬头后重新开具', actor);
        return current.id;
      }
      await em.update(Invoice, current.id, { nextTitle: next });
      if (current.status === 'issued' && !invoices.some((i) => i.direction === 'red' && i.originalInvoiceId === current.id)) {
        await this.createRed(em, current, 'retitle');
      }
      return current.id;
    });
  }

  private async createRed(em: EntityManager, original: Invoice, reason: RedReason): Promise<void> {
    const row = em.create(Invoice, {
      ...original,
      id: undefined,
      requestKey: `red:${original.id}`,
      providerOrderNo: `${original.providerOrderNo}R`,
      direction: 'red',
      originalInvoiceId: original.id,
      nextTitle: null,
      redReason: reason,
      amountFen: -original.amountFen,
      taxFen: -original.taxFen,
      ...NOT_YET_SUBMITTED,
      createdAt: undefined,
      updatedAt: undefined,
    } as any) as unknown as Invoice;
    await em.save(row);
    await recordTransition(em, 'invoice', row.id, null, 'requested', SYSTEM, reason === 'retitle' ? '更换抬头红冲' : '退费红冲');
    await enqueue(em, INVOICE_SUBMIT, { invoiceId: row.id }, { dedupeKey: `invoice-submit:${row.id}:0`, now: this.o.clock() });
  }

  private async billingOrder(inv: Invoice, rules: CompanyRules): Promise<BillingOrder> {
    const account = await this.o.accounts.account(inv.accountId);
    const tax = invoiceTax(Math.abs(inv.amountFen), account?.use ?? 'residential', rules.invoice);
    const sign = inv.direction === 'red' ? -1 : 1;
    const yuan = (fen: number) => fenToYuanString(sign * fen);
    const original = inv.originalInvoiceId ? await this.o.ds.getRepository(Invoice).findOneBy({ id: inv.originalInvoiceId }) : null;
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
      // Nuonuo's red reasons: 开票有误 (a wrong title), 服务中止 (a refund)
      ...(original?.number ? { oldEleInvoiceNumber: original.number, redReason: inv.redReason === 'retitle' ? '开票有误' : '服务中止' } : {}),
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

  async move(invoiceId: number, to: InvoiceState, failure: string | null, actor: Actor = SYSTEM): Promise<void> {
    await withTx(this.o.ds, async (em) => {
      const row = await this.lock(em, invoiceId);
      if (row.status === to) return;
      await this.moveIn(em, row, to, failure, actor);
    });
  }

  /** One transition of a locked invoice (a retry is a new order at the provider and is submitted again). */
  private async moveIn(em: EntityManager, row: Invoice, to: InvoiceState, failure: string | null, actor: Actor): Promise<void> {
    await applyTransition(em, INVOICE_TRANSITIONS, { type: 'invoice', id: row.id, state: row.status }, to, actor, failure);
    // a retry after a failure is a new order at the provider (the failed one stays failed there)
    const providerOrderNo = to === 'requested' ? `${row.providerOrderNo.split('T')[0]}T${row.attempts}` : row.providerOrderNo;
    const retry = to === 'requested';
    await em.update(Invoice, row.id, { status: to, failure: retry ? null : failure, providerOrderNo, ...(retry ? { providerSerial: null } : {}) });
    if (retry) await enqueue(em, INVOICE_SUBMIT, { invoiceId: row.id }, { dedupeKey: `invoice-submit:${row.id}:${row.attempts}`, now: this.o.clock() });
  }

  /** Every invoice of an order, locked, oldest first (sorted here: forUpdate takes no ORDER BY). */
  private async lockOfOrder(em: EntityManager, orderId: number): Promise<Invoice[]> {
    const rows = await forUpdate(em.createQueryBuilder(Invoice, 'i').where('i.orderId = :id', { id: orderId })).getMany();
    return rows.sort((a, b) => a.id - b.id);
  }

  async lock(em: EntityManager, id: number): Promise<Invoice> {
    const row = await forUpdate(em.createQueryBuilder(Invoice, 'i').where('i.id = :id', { id })).getOne();
    if (!row) throw new AppError('INVOICE_NOT_FOUND');
    return row;
  }
}

function sameTitle(a: TitleSnapshot, b: TitleSnapshot): boolean {
  return JSON.stringify(snapshot(a)) === JSON.stringify(snapshot(b));
}

/** 数电专票 for a VAT special title, else 数电普票 */
function lineOf(t: TitleSnapshot): 'bs' | 'pc' {
  return t.kind === 'vat_special' ? 'bs' : 'pc';
}
