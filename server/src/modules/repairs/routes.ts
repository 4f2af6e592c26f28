import Router from '@koa/router';
import { categoryClock, MeasurementsApi, REPAIR_CATEGORIES, REPAIR_CATEGORY_LABEL, RepairsApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { ANY_STAFF } from '../../platform/auth';
import type { RepairsService } from './service';
import type { MeasurementsService } from './measurements';

const FIELD = ['worker', 'butler', 'admin'] as const;

export function repairsRoutes(repairs: RepairsService, measurements: MeasurementsService): Router {
  const r = new Router();

  // ---- residents ----
  route(r, { ...RepairsApi.options, auth: ['resident', ...ANY_STAFF] }, async () => {
    const rules = await repairs.rules();
    return {
      categories: REPAIR_CATEGORIES.map((c) => ({ value: c, label: REPAIR_CATEGORY_LABEL[c], emergency: categoryClock(c, rules).emergency })),
      priceList: rules.repairs.priceList,
      measurementWindows: await measurements.windows(),
    };
  });
  route(r, { ...RepairsApi.create, auth: ['resident'] }, ({ body, resident }) => repairs.create(resident(), body));
  route(r, { ...RepairsApi.list, auth: ['resident'] }, ({ resident }) => repairs.listForResident(resident().residentId));
  route(r, { ...RepairsApi.get, auth: ['resident'] }, ({ params, resident }) => repairs.viewForResident(resident().residentId, params.id));
  route(r, { ...RepairsApi.cancel, auth: ['resident'] }, ({ params, resident }) => repairs.cancelByResident(resident(), params.id));
  route(r, { ...RepairsApi.consent, auth: ['resident'] }, ({ params, body, resident }) => repairs.consent(resident(), params.id, body.accept));
  route(r, { ...RepairsApi.rate, auth: ['resident'] }, ({ params, body, resident }) => repairs.rate(resident(), params.id, body));
  route(r, { ...RepairsApi.urge, auth: ['resident'] }, ({ params, resident }) => repairs.urge(resident(), params.id));
  route(r, { ...RepairsApi.reschedule, auth: ['resident'] }, ({ params, body, resident }) => repairs.reschedule(resident(), params.id, body));

  // ---- staff ----
  route(r, { ...RepairsApi.staffList, auth: ['agent', 'butler', 'dispatcher', 'worker', 'admin'] }, ({ query, staff }) => repairs.listForStaff(staff(), query));
  route(r, { ...RepairsApi.notices, auth: ANY_STAFF }, ({ staff }) => repairs.notices(staff()));
  route(r, { ...RepairsApi.readNotices, auth: ANY_STAFF }, ({ staff, body }) => repairs.readNotices(staff(), body.upToId));
  route(r, { ...RepairsApi.callbacks, auth: ['agent', 'admin'] }, ({ staff }) => repairs.callbacks(staff()));
  route(r, { ...RepairsApi.callbackDone, auth: ['agent', 'admin'] }, ({ params, body, staff }) => repairs.completeCallback(staff(), params.id, body));
  // watch list and reports (before /staff/repairs/:id)
  const WATCHERS = ['agent', 'butler', 'dispatcher', 'worker', 'station', 'admin'] as const;
  const REPORTERS = ['agent', 'dispatcher', 'station', 'admin'] as const;
  route(r, { ...RepairsApi.watchList, auth: [...WATCHERS] }, ({ query, staff }) => repairs.insights.watchList(staff(), query));
  route(r, { ...RepairsApi.report, auth: [...REPORTERS] }, ({ query, staff }) => repairs.insights.report(staff(), query));
  route(r, { ...RepairsApi.reportExport, auth: [...REPORTERS] }, async ({ query, staff, ctx }) => {
    const bytes = await repairs.insights.reportXlsx(staff(), query);
    ctx.set('Content-Disposition', `attachment; filename="repair-report.xlsx"`);
    ctx.type = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
    return bytes;
  });
  route(r, { ...RepairsApi.staffGet, auth: ['agent', 'butler', 'dispatcher', 'worker', 'admin'] }, ({ params, staff }) =>
    repairs.viewForStaff(staff(), params.id),
  );
  route(r, { ...RepairsApi.assignees, auth: ['dispatcher', 'admin'] }, ({ params, staff }) => repairs.assignees(staff(), params.id));
  route(r, { ...RepairsApi.assign, auth: ['dispatcher', 'admin'] }, ({ params, body, staff }) => repairs.assign(staff(), params.id, body.staffId, body.reason));
  route(r, { ...RepairsApi.grab, auth: ['worker', 'butler'] }, ({ params, staff }) => repairs.grab(staff(), params.id));
  route(r, { ...RepairsApi.contact, auth: FIELD }, ({ params, staff }) => repairs.contact(staff(), params.id));
  route(r, { ...RepairsApi.arrive, auth: FIELD }, ({ params, staff }) => repairs.arrive(staff(), params.id));
  route(r, { ...RepairsApi.side, auth: FIELD }, ({ params, body, staff }) => repairs.setSide(staff(), params.id, body));
  route(r, { ...RepairsApi.resolve, auth: FIELD }, ({ params, body, staff }) => repairs.resolve(staff(), params.id, body));
  route(r, { ...RepairsApi.submitReport, auth: FIELD }, ({ params, body, staff }) => repairs.submitReport(staff(), params.id, body.report));

  // ---- temperature measurements ----
  route(r, { ...MeasurementsApi.book, auth: ['resident'] }, ({ body, resident }) => measurements.book({ residentId: resident().residentId }, body));
  route(r, { ...MeasurementsApi.list, auth: ['resident'] }, ({ resident }) => measurements.listForResident(resident().residentId));
  route(r, { ...MeasurementsApi.cancel, auth: ['resident'] }, ({ params, resident }) => measurements.cancel(resident().residentId, params.id));
  route(r, { ...MeasurementsApi.reschedule, auth: ['resident'] }, ({ params, body, resident }) =>
    measurements.reschedule(resident().residentId, params.id, body.scheduledAt),
  );
  route(r, { ...MeasurementsApi.staffList, auth: ['agent', 'butler', 'worker', 'station', 'dispatcher', 'finance', 'admin'] }, ({ staff }) =>
    measurements.listForStaff(staff()),
  );
  route(r, { ...MeasurementsApi.staffBook, auth: ['agent', 'butler', 'worker', 'station', 'admin'] }, ({ body, staff }) => measurements.book(staff(), body));
  route(r, { ...MeasurementsApi.record, auth: ['butler', 'worker', 'station', 'admin'] }, ({ params, body, staff }) =>
    measurements.record(staff(), params.id, body),
  );
  route(r, { ...MeasurementsApi.rule, auth: ['station', 'admin'] }, ({ params, body, staff }) => measurements.rule(staff(), params.id, body));
  route(r, { ...MeasurementsApi.orders, auth: ['finance', 'admin'] }, ({ params, staff }) => measurements.refundableOrders(staff(), params.id));
  route(r, { ...MeasurementsApi.refund, auth: ['finance'] }, ({ params, body, staff }) => measurements.refund(staff(), params.id, body.orderId));

  return r;
}
