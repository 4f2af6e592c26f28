import Router from '@koa/router';
import { ServiceChangesApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import type { ServiceChangesService } from './service';

const REVIEWERS = ['agent', 'admin'] as const;
const CREW = ['station', 'admin'] as const;

export function serviceChangesRoutes(svc: ServiceChangesService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { ...ServiceChangesApi.windows, auth: ['resident'] }, () => svc.windows());
  route(r, { ...ServiceChangesApi.preview, auth: ['resident'] }, ({ query, resident }) => svc.preview({ residentId: resident().residentId }, query));
  route(r, { ...ServiceChangesApi.list, auth: ['resident'] }, ({ resident }) => svc.listForResident(resident().residentId));
  route(r, { ...ServiceChangesApi.submit, auth: ['resident'] }, ({ body, resident }) => svc.submitByResident(resident().residentId, body));
  route(r, { ...ServiceChangesApi.get, auth: ['resident'] }, ({ params, resident }) => svc.getForResident(resident().residentId, params.id));
  route(r, { ...ServiceChangesApi.resubmit, auth: ['resident'] }, ({ params, body, resident }) => svc.resubmit(resident().residentId, params.id, body));
  route(r, { ...ServiceChangesApi.cancel, auth: ['resident'] }, ({ params, resident }) => svc.cancelByResident(resident().residentId, params.id));

  // ---- staff: counter, review (agents of the area), every staff member sees the same status ----
  route(r, { ...ServiceChangesApi.staffPreview, auth: ANY_STAFF }, ({ query, staff }) => svc.preview({ staff: staff() }, query));
  route(r, { ...ServiceChangesApi.staffList, auth: ANY_STAFF }, ({ query, staff }) => svc.listForStaff(staff(), query));
  route(r, { ...ServiceChangesApi.staffExport, auth: ANY_STAFF }, async ({ query, staff, ctx }) => {
    const bytes = await svc.exportForStaff(staff(), query);
    ctx.set('Content-Disposition', `attachment; filename="service-changes.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });
  route(r, { ...ServiceChangesApi.staffGet, auth: ANY_STAFF }, ({ params, staff }) => svc.getForStaff(staff(), params.id));
  route(r, { ...ServiceChangesApi.staffSubmit, auth: REVIEWERS }, ({ body, staff }) => svc.submitByStaff(staff(), body));
  route(r, { ...ServiceChangesApi.review, auth: REVIEWERS }, ({ params, staff }) => svc.startReview(staff(), params.id));
  route(r, { ...ServiceChangesApi.approve, auth: REVIEWERS }, ({ params, staff }) => svc.approve(staff(), params.id));
  route(r, { ...ServiceChangesApi.reject, auth: REVIEWERS }, ({ params, body, staff }) => svc.reject(staff(), params.id, body.problems));
  route(r, { ...ServiceChangesApi.staffCancel, auth: REVIEWERS }, ({ params, staff }) => svc.cancelByStaff(staff(), params.id));

  // ---- valve work orders: the substation crew ----
  route(r, { ...ServiceChangesApi.valveOrders, auth: ANY_STAFF }, ({ query, staff }) => svc.valveOrders(staff(), query));
  route(r, { ...ServiceChangesApi.valveOrderDone, auth: CREW }, ({ params, body, staff }) => svc.completeValveOrder(staff(), params.id, body));

  return r;
}
