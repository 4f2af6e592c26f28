import Router from '@koa/router';
import { z } from 'zod';
import {
  CompleteValveOrder,
  IdParam,
  RejectServiceChange,
  ResubmitServiceChange,
  ServiceChangeListQuery,
  ServiceChangePreviewQuery,
  StaffSubmitServiceChange,
  SubmitServiceChange,
  ValveOrderListQuery,
} from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import type { ServiceChangesService } from './service';

const Id = z.object({ id: IdParam });
const REVIEWERS = ['agent', 'admin'] as const;
const CREW = ['station', 'admin'] as const;

export function serviceChangesRoutes(svc: ServiceChangesService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { method: 'get', path: '/service-changes/preview', auth: ['resident'], query: ServiceChangePreviewQuery }, ({ query, resident }) =>
    svc.preview({ residentId: resident().residentId }, query),
  );
  route(r, { method: 'get', path: '/service-changes', auth: ['resident'] }, ({ resident }) => svc.listForResident(resident().residentId));
  route(r, { method: 'post', path: '/service-changes', auth: ['resident'], body: SubmitServiceChange, status: 201 }, ({ body, resident }) =>
    svc.submitByResident(resident().residentId, body),
  );
  route(r, { method: 'get', path: '/service-changes/:id', auth: ['resident'], params: Id }, ({ params, resident }) =>
    svc.getForResident(resident().residentId, params.id),
  );
  route(r, { method: 'post', path: '/service-changes/:id/resubmit', auth: ['resident'], params: Id, body: ResubmitServiceChange }, ({ params, body, resident }) =>
    svc.resubmit(resident().residentId, params.id, body),
  );
  route(r, { method: 'post', path: '/service-changes/:id/cancel', auth: ['resident'], params: Id }, ({ params, resident }) =>
    svc.cancelByResident(resident().residentId, params.id),
  );

  // ---- staff: counter, review (agents of the area), every staff member sees the same status ----
  route(r, { method: 'get', path: '/staff/service-changes/preview', auth: ANY_STAFF, query: ServiceChangePreviewQuery }, ({ query, staff }) =>
    svc.preview({ staff: staff() }, query),
  );
  route(r, { method: 'get', path: '/staff/service-changes', auth: ANY_STAFF, query: ServiceChangeListQuery }, ({ query, staff }) => svc.listForStaff(staff(), query));
  route(r, { method: 'get', path: '/staff/service-changes/export', auth: ANY_STAFF, query: ServiceChangeListQuery }, async ({ query, staff, ctx }) => {
    const bytes = await svc.exportForStaff(staff(), query);
    ctx.set('Content-Disposition', `attachment; filename="service-changes.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });
  route(r, { method: 'get', path: '/staff/service-changes/:id', auth: ANY_STAFF, params: Id }, ({ params, staff }) => svc.getForStaff(staff(), params.id));
  route(r, { method: 'post', path: '/staff/service-changes', auth: REVIEWERS, body: StaffSubmitServiceChange, status: 201 }, ({ body, staff }) =>
    svc.submitByStaff(staff(), body),
  );
  route(r, { method: 'post', path: '/staff/service-changes/:id/review', auth: REVIEWERS, params: Id }, ({ params, staff }) => svc.startReview(staff(), params.id));
  route(r, { method: 'post', path: '/staff/service-changes/:id/approve', auth: REVIEWERS, params: Id }, ({ params, staff }) => svc.approve(staff(), params.id));
  route(r, { method: 'post', path: '/staff/service-changes/:id/reject', auth: REVIEWERS, params: Id, body: RejectServiceChange }, ({ params, body, staff }) =>
    svc.reject(staff(), params.id, body.problems),
  );
  route(r, { method: 'post', path: '/staff/service-changes/:id/cancel', auth: REVIEWERS, params: Id }, ({ params, staff }) => svc.cancelByStaff(staff(), params.id));

  // ---- valve work orders: the substation crew ----
  route(r, { method: 'get', path: '/staff/valve-orders', auth: ANY_STAFF, query: ValveOrderListQuery }, ({ query, staff }) => svc.valveOrders(staff(), query));
  route(r, { method: 'post', path: '/staff/valve-orders/:id/done', auth: CREW, params: Id, body: CompleteValveOrder }, ({ params, body, staff }) =>
    svc.completeValveOrder(staff(), params.id, body),
  );

  return r;
}
