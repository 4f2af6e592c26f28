import Router from '@koa/router';
import { z } from 'zod';
import { IdParam, SeasonInput, seasonCode, type BillList } from '@heat-butler/shared';
import { route } from '../../platform/http';
import type { BillingService } from './service';

const SeasonCode = z.object({ code: seasonCode() });

export function billingRoutes(billing: BillingService): Router {
  const r = new Router();

  route(r, { method: 'get', path: '/bills', auth: ['resident'] }, ({ resident }): Promise<BillList> => billing.listForResident(resident().residentId));

  route(r, { method: 'get', path: '/bills/:billId', auth: ['resident'], params: z.object({ billId: IdParam }) }, ({ params, resident }) =>
    billing.billForResident(resident().residentId, params.billId),
  );

  route(r, { method: 'get', path: '/staff/seasons', auth: ['admin', 'finance'] }, async () => ({ items: await billing.seasons() }));

  route(r, { method: 'post', path: '/staff/seasons', auth: ['admin'], body: SeasonInput, status: 201 }, ({ body }) => billing.createSeason(body));

  route(r, { method: 'put', path: '/staff/seasons/:code', auth: ['admin'], params: SeasonCode, body: SeasonInput }, ({ params, body }) =>
    billing.updateSeason(params.code, body),
  );

  route(r, { method: 'post', path: '/staff/seasons/:code/bills', auth: ['admin'], params: SeasonCode }, ({ params }) => billing.issueBills(params.code));

  return r;
}
