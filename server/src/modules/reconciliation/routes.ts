import fs from 'node:fs';
import Router from '@koa/router';
import { ReconciliationApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { AppError } from '../../platform/errors';
import type { ReconciliationService } from './service';

const READERS = ['finance', 'admin'] as const;

/** Finance runs and settles; admin may read. Nobody else sees any of it. */
export function reconciliationRoutes(recon: ReconciliationService): Router {
  const r = new Router();

  route(r, { ...ReconciliationApi.run, auth: ['finance'] }, ({ body }) => recon.run(body.date));

  route(r, { ...ReconciliationApi.days, auth: READERS }, async ({ query }) => ({ items: await recon.days(query) }));

  route(r, { ...ReconciliationApi.day, auth: READERS }, ({ params }) => recon.day(params.date));

  // a day (date) or a range (from..to) as XLSX: summary, differences, double payments, healed
  route(r, { ...ReconciliationApi.export, auth: READERS }, async ({ query, ctx }) => {
    const from = query.date ?? query.from!;
    const to = query.date ?? query.to!;
    const file = await recon.exportXlsx(from, to); // streamed as it is written
    const name = from === to ? `对账-${from}.xlsx` : `对账-${from}至${to}.xlsx`;
    ctx.set(
      'Content-Disposition',
      `attachment; filename="reconciliation-${from}${from === to ? '' : `_${to}`}.xlsx"; filename*=UTF-8''${encodeURIComponent(name)}`,
    );
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return file;
  });

  // the raw bill as WeChat sent it
  route(r, { ...ReconciliationApi.rawBill, auth: READERS }, async ({ params, ctx }) => {
    const bill = await recon.rawBill(params.date);
    if (!bill) throw new AppError('NOT_FOUND');
    ctx.set('Content-Disposition', `attachment; filename="tradebill-${params.date}.csv"`);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.length = bill.bytes;
    ctx.body = fs.createReadStream(bill.file);
    return ctx.body;
  });

  route(r, { ...ReconciliationApi.resolve, auth: ['finance'] }, ({ params, body, staff }) =>
    recon.resolve(staff(), { billDate: params.date, key: params.key }, body),
  );

  return r;
}
