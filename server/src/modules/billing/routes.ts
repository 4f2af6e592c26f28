import Router from '@koa/router';
import { BillingApi, type BillList } from '@heat-butler/shared';
import { route } from '../../platform/http';
import type { BillingService } from './service';

export function billingRoutes(billing: BillingService): Router {
  const r = new Router();

  route(r, { ...BillingApi.bills, auth: ['resident'] }, ({ resident }): Promise<BillList> => billing.listForResident(resident().residentId));

  route(r, { ...BillingApi.bill, auth: ['resident'] }, ({ params, resident }) => billing.billForResident(resident().residentId, params.billId));

  route(r, { ...BillingApi.seasons, auth: ['admin', 'finance'] }, async () => ({
    items: await billing.seasons(),
    baseFeeRatioBp: (await billing.companyRules()).baseFeeRatioBp,
    current: (await billing.currentSeason())?.code ?? null,
  }));

  route(r, { ...BillingApi.createSeason, auth: ['admin'] }, ({ body }) => billing.createSeason(body));

  route(r, { ...BillingApi.updateSeason, auth: ['admin'] }, ({ params, body }) => billing.updateSeason(params.code, body));

  route(r, { ...BillingApi.seasonBills, auth: ['admin', 'finance'] }, ({ params }) => billing.seasonBills(params.code));

  route(r, { ...BillingApi.issueBills, auth: ['admin', 'finance'] }, ({ params, query }) => billing.issueBills(params.code, query.batch));

  return r;
}
