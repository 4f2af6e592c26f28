import { z } from 'zod';
import { endpoint, FILE, json, NONE } from '../api/endpoint';
import { ChangeInvoiceTitle, EmailInvoice, InvoiceTitleView, InvoiceView, RequestInvoice } from '../api/invoices';
import { IdParams } from '../api/common';
import { INVOICE_STATES, InvoiceTitleInput } from '../invoicing';
import { isoDate } from '../inputs';

export const InvoiceDayQuery = z.object({ date: isoDate(), status: z.enum(INVOICE_STATES).optional() });
export const InvoiceFileQuery = z.object({ exp: z.coerce.number().int().min(0).max(4_102_444_800), sig: z.string().max(100) });

/** A day's invoices for finance, with counts by status. */
export interface InvoiceDay {
  date: string;
  counts: Record<string, number>;
  items: InvoiceView[];
}

/** Invoice titles and e-invoices (residents); a day's invoices (finance). */
export const InvoicesApi = {
  titles: endpoint({ method: 'get', path: '/invoice-titles', response: json<{ items: InvoiceTitleView[] }>() }),
  createTitle: endpoint({ method: 'post', path: '/invoice-titles', body: InvoiceTitleInput, status: 201, response: InvoiceTitleView }),
  updateTitle: endpoint({ method: 'put', path: '/invoice-titles/:id', params: IdParams, body: InvoiceTitleInput, response: InvoiceTitleView }),
  deleteTitle: endpoint({ method: 'delete', path: '/invoice-titles/:id', params: IdParams, response: NONE }),
  request: endpoint({ method: 'post', path: '/invoices', body: RequestInvoice, status: 201, response: InvoiceView }),
  list: endpoint({ method: 'get', path: '/invoices', response: json<{ items: InvoiceView[] }>() }),
  get: endpoint({ method: 'get', path: '/invoices/:id', params: IdParams, response: InvoiceView }),
  /** change the title after issue: red reversal and re-issue, once per payment */
  changeTitle: endpoint({ method: 'post', path: '/invoices/:id/title', params: IdParams, body: ChangeInvoiceTitle, response: InvoiceView }),
  email: endpoint({ method: 'post', path: '/invoices/:id/email', params: IdParams, body: EmailInvoice, response: NONE }),
  /** the PDF by signed link */
  file: endpoint({ method: 'get', path: '/invoice-files/:id', params: IdParams, query: InvoiceFileQuery, response: FILE }),
  staffDay: endpoint({ method: 'get', path: '/staff/invoices', query: InvoiceDayQuery, response: json<InvoiceDay>() }),
  retry: endpoint({ method: 'post', path: '/staff/invoices/:id/retry', params: IdParams, response: InvoiceView }),
  exportDay: endpoint({ method: 'get', path: '/staff/invoices/export', query: InvoiceDayQuery, response: FILE }),
};
