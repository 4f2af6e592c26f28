import Router from '@koa/router';
import { z } from 'zod';
import { EmailInvoice, IdParam, INVOICE_STATES, InvoiceTitleInput, isoDate, RequestInvoice } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { AppError } from '../../platform/errors';
import type { InvoicesService } from './service';

const Id = z.object({ id: IdParam });
const Day = z.object({ date: isoDate(), status: z.enum(INVOICE_STATES).optional() });

export function invoicesRoutes(invoices: InvoicesService): Router {
  const r = new Router();

  // titles
  route(r, { method: 'get', path: '/invoice-titles', auth: ['resident'] }, async ({ resident }) => ({ items: await invoices.titles(resident().residentId) }));
  route(r, { method: 'post', path: '/invoice-titles', auth: ['resident'], body: InvoiceTitleInput, status: 201 }, ({ body, resident }) =>
    invoices.saveTitle(resident().residentId, body as any),
  );
  route(r, { method: 'put', path: '/invoice-titles/:id', auth: ['resident'], params: Id, body: InvoiceTitleInput }, ({ params, body, resident }) =>
    invoices.saveTitle(resident().residentId, body as any, params.id),
  );
  route(r, { method: 'delete', path: '/invoice-titles/:id', auth: ['resident'], params: Id }, async ({ params, resident }) => {
    await invoices.deleteTitle(resident().residentId, params.id);
  });

  // invoices
  route(r, { method: 'post', path: '/invoices', auth: ['resident'], body: RequestInvoice, status: 201 }, ({ body, resident }) =>
    invoices.request(resident().residentId, body as any),
  );
  route(r, { method: 'get', path: '/invoices', auth: ['resident'] }, async ({ resident }) => ({ items: await invoices.listForResident(resident().residentId) }));
  route(r, { method: 'get', path: '/invoices/:id', auth: ['resident'], params: Id }, ({ params, resident }) =>
    invoices.viewForResident(resident().residentId, params.id),
  );
  route(r, { method: 'post', path: '/invoices/:id/email', auth: ['resident'], params: Id, body: EmailInvoice }, async ({ params, body, resident }) => {
    await invoices.mailForResident(resident().residentId, params.id, body.email);
  });

  // the PDF by signed link (no bearer header needed: WeChat's downloadFile, a browser tab)
  route(
    r,
    { method: 'get', path: '/invoice-files/:id', auth: 'public', params: Id, query: z.object({ exp: z.coerce.number().int().min(0).max(4_102_444_800), sig: z.string().max(100) }) },
    async ({ params, query, ctx }) => {
      if (!invoices.verifyPdfLink(params.id, query.exp, query.sig)) throw new AppError('FORBIDDEN');
      const { bytes, filename } = await invoices.pdf(params.id);
      ctx.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(filename)}`);
      ctx.type = 'application/pdf';
      ctx.body = bytes;
      ctx.status = 200;
      return ctx.body;
    },
  );

  // finance
  route(r, { method: 'get', path: '/staff/invoices', auth: ['finance', 'admin'], query: Day }, ({ query }) => invoices.day(query.date, query.status));
  route(r, { method: 'post', path: '/staff/invoices/:id/retry', auth: ['finance'], params: Id }, ({ params, staff }) => invoices.retry(staff(), params.id));
  route(r, { method: 'get', path: '/staff/invoices/export', auth: ['finance', 'admin'], query: Day }, async ({ query, ctx }) => {
    const bytes = await invoices.exportDay(query.date);
    ctx.set('Content-Disposition', `attachment; filename="invoices-${query.date}.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });

  return r;
}
