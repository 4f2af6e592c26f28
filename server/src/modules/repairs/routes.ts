import Router from '@koa/router';
import { z } from 'zod';
import {
  AssignRequest,
  CallbackDoneRequest,
  ConsentRequest,
  CreateRepairRequest,
  IdParam,
  intId,
  MeasurementBookRequest,
  MeasurementRecordRequest,
  RulingRefundRequest,
  RulingRequest,
  RateRepairRequest,
  REPAIR_CATEGORIES,
  REPAIR_CATEGORY_LABEL,
  RepairReportQuery,
  RepairReportRequest,
  WatchListQuery,
  ResolveRequest,
  SideRequest,
  StaffRepairQuery,
} from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import type { RepairsService } from './service';
import type { MeasurementsService } from './measurements';

const Id = z.object({ id: IdParam });
const FIELD = ['worker', 'butler', 'admin'] as const;

export function repairsRoutes(repairs: RepairsService, measurements: MeasurementsService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { method: 'get', path: '/repairs/options', auth: ['resident', ...ANY_STAFF] }, async () => ({
    categories: REPAIR_CATEGORIES.map((c) => ({ value: c, label: REPAIR_CATEGORY_LABEL[c], emergency: c === 'leak' })),
    priceList: await repairs.priceList(),
    measurementWindows: await measurements.windows(),
  }));
  route(r, { method: 'post', path: '/repairs', auth: ['resident'], body: CreateRepairRequest, status: 201 }, ({ body, resident }) => repairs.create(resident(), body));
  route(r, { method: 'get', path: '/repairs', auth: ['resident'] }, ({ resident }) => repairs.listForResident(resident().residentId));
  route(r, { method: 'get', path: '/repairs/:id', auth: ['resident'], params: Id }, ({ params, resident }) => repairs.viewForResident(resident().residentId, params.id));
  route(r, { method: 'post', path: '/repairs/:id/cancel', auth: ['resident'], params: Id }, ({ params, resident }) => repairs.cancelByResident(resident(), params.id));
  route(r, { method: 'post', path: '/repairs/:id/consent', auth: ['resident'], params: Id, body: ConsentRequest }, ({ params, body, resident }) =>
    repairs.consent(resident(), params.id, body.accept),
  );
  route(r, { method: 'post', path: '/repairs/:id/rating', auth: ['resident'], params: Id, body: RateRepairRequest }, ({ params, body, resident }) =>
    repairs.rate(resident(), params.id, body),
  );

  // ---- staff ----
  route(r, { method: 'get', path: '/staff/repairs', auth: ['agent', 'butler', 'dispatcher', 'worker', 'admin'], query: StaffRepairQuery }, ({ query, staff }) =>
    repairs.listForStaff(staff(), query),
  );
  route(r, { method: 'get', path: '/staff/repairs/notices', auth: ANY_STAFF }, ({ staff }) => repairs.notices(staff()));
  route(
    r,
    { method: 'post', path: '/staff/repairs/notices/read', auth: ANY_STAFF, body: z.object({ upToId: intId().optional() }) },
    ({ staff, body }) => repairs.readNotices(staff(), body.upToId),
  );
  route(r, { method: 'get', path: '/staff/repairs/callbacks', auth: ['agent', 'admin'] }, ({ staff }) => repairs.callbacks(staff()));
  route(r, { method: 'post', path: '/staff/repairs/callbacks/:id', auth: ['agent', 'admin'], params: Id, body: CallbackDoneRequest }, ({ params, body, staff }) =>
    repairs.completeCallback(staff(), params.id, body),
  );
  // watch list and reports (before /staff/repairs/:id)
  const WATCHERS = ['agent', 'butler', 'dispatcher', 'worker', 'station', 'admin'] as const;
  const REPORTERS = ['agent', 'dispatcher', 'station', 'admin'] as const;
  route(r, { method: 'get', path: '/staff/repairs/watch-list', auth: [...WATCHERS], query: WatchListQuery }, ({ query, staff }) => repairs.insights.watchList(staff(), query));
  route(r, { method: 'get', path: '/staff/repairs/report', auth: [...REPORTERS], query: RepairReportQuery }, ({ query, staff }) => repairs.insights.report(staff(), query));
  route(r, { method: 'get', path: '/staff/repairs/report/export', auth: [...REPORTERS], query: RepairReportQuery }, async ({ query, staff, ctx }) => {
    const bytes = await repairs.insights.reportXlsx(staff(), query);
    ctx.set('Content-Disposition', `attachment; filename="repair-report.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });
  route(r, { method: 'get', path: '/staff/repairs/:id', auth: ['agent', 'butler', 'dispatcher', 'worker', 'admin'], params: Id }, ({ params, staff }) =>
    repairs.viewForStaff(staff(), params.id),
  );
  route(r, { method: 'get', path: '/staff/repairs/:id/assignees', auth: ['dispatcher', 'admin'], params: Id }, ({ params, staff }) => repairs.assignees(staff(), params.id));
  route(r, { method: 'post', path: '/staff/repairs/:id/assign', auth: ['dispatcher', 'admin'], params: Id, body: AssignRequest }, ({ params, body, staff }) =>
    repairs.assign(staff(), params.id, body.staffId, body.reason),
  );
  route(r, { method: 'post', path: '/staff/repairs/:id/grab', auth: ['worker', 'butler'], params: Id }, ({ params, staff }) => repairs.grab(staff(), params.id));
  route(r, { method: 'post', path: '/staff/repairs/:id/contact', auth: FIELD, params: Id }, ({ params, staff }) => repairs.contact(staff(), params.id));
  route(r, { method: 'post', path: '/staff/repairs/:id/arrive', auth: FIELD, params: Id }, ({ params, staff }) => repairs.arrive(staff(), params.id));
  route(r, { method: 'post', path: '/staff/repairs/:id/side', auth: FIELD, params: Id, body: SideRequest }, ({ params, body, staff }) => repairs.setSide(staff(), params.id, body));
  route(r, { method: 'post', path: '/staff/repairs/:id/resolve', auth: FIELD, params: Id, body: ResolveRequest }, ({ params, body, staff }) =>
    repairs.resolve(staff(), params.id, body),
  );
  route(r, { method: 'post', path: '/staff/repairs/:id/report', auth: FIELD, params: Id, body: RepairReportRequest }, ({ params, body, staff }) =>
    repairs.submitReport(staff(), params.id, body.report),
  );

  // ---- temperature measurements ----
  route(r, { method: 'post', path: '/measurements', auth: ['resident'], body: MeasurementBookRequest, status: 201 }, ({ body, resident }) =>
    measurements.book({ residentId: resident().residentId }, body),
  );
  route(r, { method: 'get', path: '/measurements', auth: ['resident'] }, ({ resident }) => measurements.listForResident(resident().residentId));
  route(r, { method: 'get', path: '/staff/measurements', auth: ['agent', 'butler', 'worker', 'station', 'dispatcher', 'finance', 'admin'] }, ({ staff }) =>
    measurements.listForStaff(staff()),
  );
  route(r, { method: 'post', path: '/staff/measurements', auth: ['agent', 'butler', 'worker', 'station', 'admin'], body: MeasurementBookRequest, status: 201 }, ({ body, staff }) =>
    measurements.book(staff(), body),
  );
  route(r, { method: 'post', path: '/staff/measurements/:id/readings', auth: ['butler', 'worker', 'station', 'admin'], params: Id, body: MeasurementRecordRequest }, ({ params, body, staff }) =>
    measurements.record(staff(), params.id, body),
  );
  route(r, { method: 'post', path: '/staff/measurements/:id/ruling', auth: ['station', 'admin'], params: Id, body: RulingRequest }, ({ params, body, staff }) =>
    measurements.rule(staff(), params.id, body),
  );
  route(r, { method: 'get', path: '/staff/measurements/:id/orders', auth: ['finance', 'admin'], params: Id }, ({ params, staff }) => measurements.refundableOrders(staff(), params.id));
  route(r, { method: 'post', path: '/staff/measurements/:id/refund', auth: ['finance'], params: Id, body: RulingRefundRequest, status: 201 }, ({ params, body, staff }) =>
    measurements.refund(staff(), params.id, body.orderId),
  );

  return r;
}
