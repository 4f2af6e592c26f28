import Router from '@koa/router';
import { InvoicesApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { AppError } from '../../platform/errors';
import type { InvoicesService } from './service';

export function invoicesRoutes(invoices: InvoicesService): Router {
  const r = new Router();

  // titles
  route(r, { ...InvoicesApi.titles, auth: ['resident'] }, async ({ resident }) => ({ items: await invoices.titles(resident().residentId) }));
  route(r, { ...InvoicesApi.createTitle, auth: ['resident'] }, ({ body, resident }) => invoices.saveTitle(resident().residentId, body as any));
  route(r, { ...InvoicesApi.updateTitle, auth: ['resident'] }, ({ params, body, resident }) =>
    invoices.saveTitle(resident().residentId, body as any, params.id),
  );
  route(r, { ...InvoicesApi.deleteTitle, auth: ['resident'] }, async ({ params, resident }) => {
    await invoices.deleteTitle(resident().residentId, params.id);
  });

  // invoices
  route(r, { ...InvoicesApi.request, auth: ['resident'] }, ({ body, resident }) => invoices.request(resident().residentId, body as any));
  route(r, { ...InvoicesApi.list, auth: ['resident'] }, async ({ resident }) => ({ items: await invoices.listForResident(resident().residentId) }));
  route(r, { ...InvoicesApi.get, auth: ['resident'] }, ({ params, resident }) => invoices.viewForResident(resident().residentId, params.id));
  route(r, { ...InvoicesApi.changeTitle, auth: ['resident'] }, ({ params, body, resident }) =>
    invoices.changeTitle(resident().residentId, params.id, body as any),
  );
  route(r, { ...InvoicesApi.email, auth: ['resident'] }, async ({ params, body, resident }) => {
    await invoices.mailForResident(resident().residentId, params.id, body.email);
  });

  // the PDF by signed link (no bearer header needed: WeChat's downloadFile, a browser tab)
  route(r, { ...InvoicesApi.file, auth: 'public' }, async ({ params, query, ctx }) => {
    if (!invoices.verifyPdfLink(params.id, query.exp, query.sig)) throw new AppError('FORBIDDEN');
    const { bytes, filename } = await invoices.pdf(params.id);
    ctx.set('Content-Disposition', `inline; filename*=UTF-8''${encodeURIComponent(filename)}`);
    ctx.type = 'application/pdf';
    ctx.body = bytes;
    ctx.status = 200;
    return ctx.body;
  });

  // finance
  route(r, { ...InvoicesApi.staffDay, auth: ['finance', 'admin'] }, ({ query }) => invoices.day(query.date, query.status));
  route(r, { ...InvoicesApi.retry, auth: ['finance'] }, ({ params, staff }) => invoices.retry(staff(), params.id));
  route(r, { ...InvoicesApi.exportDay, auth: ['finance', 'admin'] }, async ({ query, ctx }) => {
    const bytes = await invoices.exportDay(query.date);
    ctx.set('Content-Disposition', `attachment; filename="invoices-${query.date}.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });

  return r;
}
