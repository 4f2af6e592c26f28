import { z } from 'zod';
import { intId } from '../inputs';
import { INVOICE_STATES, INVOICE_TITLE_KINDS, InvoiceTitleInput } from '../invoicing';

export const InvoiceTitleView = z.object({
  id: z.number(),
  kind: z.enum(INVOICE_TITLE_KINDS),
  name: z.string(),
  taxId: z.string().nullable(),
  taxIdConfirmed: z.boolean(),
  address: z.string().nullable(),
  phone: z.string().nullable(),
  bank: z.string().nullable(),
  bankAccount: z.string().nullable(),
  email: z.string().nullable(),
  isDefault: z.boolean(),
});
export type InvoiceTitleView = z.infer<typeof InvoiceTitleView>;

const invoiceEmail = z
  .string()
  .trim()
  .max(100)
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, '邮箱格式不正确');

/** A saved title or a new one (saved too), exactly one; where to e-mail the invoice. */
const TitleChoice = z.object({
  titleId: intId().optional(),
  title: InvoiceTitleInput.optional(),
  email: invoiceEmail.optional(),
});
const oneTitle = (v: { titleId?: number; title?: unknown }) => !!v?.titleId !== !!v?.title;
const ONE_TITLE = { path: ['titleId'], message: '请选择或填写一个发票抬头', when: () => true };

/** Ask for the invoice of one payment: a saved title, or a new one (saved too). */
export const RequestInvoice = z.object({ orderId: intId(), ...TitleChoice.shape }).refine(oneTitle, ONE_TITLE);
export type RequestInvoice = z.input<typeof RequestInvoice>;

/**
 * Change the title of a payment's invoice after it was issued (e.g. a company title after the
 * automatic personal one): the invoice is reversed (red) and issued again with the new title,
 * once per payment. A saved title, or a new one (saved too).
 */
export const ChangeInvoiceTitle = TitleChoice.refine(oneTitle, ONE_TITLE);
export type ChangeInvoiceTitle = z.input<typeof ChangeInvoiceTitle>;

export const EmailInvoice = z.object({ email: invoiceEmail });

export const InvoiceView = z.object({
  id: z.number(),
  orderId: z.number(),
  direction: z.enum(['blue', 'red']),
  /** 电子发票（普通发票） / 电子发票（增值税专用发票） */
  typeLabel: z.string(),
  titleName: z.string(),
  taxId: z.string().nullable(),
  amountFen: z.number().int(),
  taxFen: z.number().int(),
  rateLabel: z.string(),
  status: z.enum(INVOICE_STATES),
  number: z.string().nullable(),
  issuedAt: z.string().nullable(),
  failure: z.string().nullable(),
  /** a signed download link, valid for a few minutes, once issued */
  pdfUrl: z.string().nullable(),
  createdAt: z.string(),
  /** the red invoice reversing this one, or the blue one this red reverses */
  relatedInvoiceId: z.number().nullable(),
  /** a red invoice's reason: the payment was refunded, or the resident changed the title */
  redReason: z.enum(['refund', 'retitle']).nullable(),
  /** a title change under way: the title this invoice is being re-issued with */
  pendingTitleName: z.string().nullable(),
  /** the invoice issued in place of this reversed one (or of the one this red reverses) */
  replacement: z.object({ id: z.number(), titleName: z.string(), status: z.enum(INVOICE_STATES), amountFen: z.number().int() }).nullable(),
  /** the payment's title was changed already (once per payment) */
  retitled: z.boolean(),
  /** this is the payment's current invoice and its title may still be changed */
  canChangeTitle: z.boolean(),
});
export type InvoiceView = z.infer<typeof InvoiceView>;
