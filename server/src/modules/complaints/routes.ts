import Router from '@koa/router';
import { ComplaintsApi, WatchApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import type { ComplaintsService } from './service';
import type { WatchProgram } from './watch';

/** who works complaints (agents take hotline calls, butlers and dispatchers handle them, admins are the department head) */
const HANDLERS = ['agent', 'butler', 'dispatcher', 'admin'] as const;
const CALLERS = ['agent', 'admin'] as const;
const WATCHERS = ['agent', 'butler', 'dispatcher', 'worker', 'station', 'admin'] as const;

export function complaintsRoutes(complaints: ComplaintsService, watch: WatchProgram): Router {
  const r = new Router();
  // ---- residents ----
  route(r, { ...ComplaintsApi.file, auth: ['resident'] }, ({ body, resident }) => complaints.fileByResident(resident(), body));
  route(r, { ...ComplaintsApi.list, auth: ['resident'] }, ({ resident }) => complaints.listForResident(resident().residentId));
  route(r, { ...ComplaintsApi.get, auth: ['resident'] }, ({ params, resident }) => complaints.viewForResident(resident().residentId, params.id));
  // ---- staff ----
  route(r, { ...ComplaintsApi.staffFile, auth: HANDLERS }, ({ body, staff }) => complaints.fileByStaff(staff(), body));
  route(r, { ...ComplaintsApi.staffList, auth: HANDLERS }, ({ query, staff }) => complaints.listForStaff(staff(), query));
  route(r, { ...ComplaintsApi.staffGet, auth: HANDLERS }, ({ params, staff }) => complaints.viewForStaff(staff(), params.id));
  route(r, { ...ComplaintsApi.take, auth: HANDLERS }, ({ params, staff }) => complaints.take(staff(), params.id));
  route(r, { ...ComplaintsApi.extend, auth: HANDLERS }, ({ params, body, staff }) => complaints.extend(staff(), params.id, body.note));
  route(r, { ...ComplaintsApi.resolve, auth: HANDLERS }, ({ params, body, staff }) => complaints.resolve(staff(), params.id, body.resolution));
  route(r, { ...ComplaintsApi.callback, auth: CALLERS }, ({ params, body, staff }) => complaints.callback(staff(), params.id, body));
  // ---- the watch program ----
  route(r, { ...WatchApi.tasks, auth: WATCHERS }, ({ query, staff }) => watch.tasks(staff(), query));
  route(r, { ...WatchApi.done, auth: WATCHERS }, ({ params, body, staff }) => watch.done(staff(), params.id, body));
  route(r, { ...WatchApi.hazards, auth: WATCHERS }, ({ query, staff }) => watch.hazards(staff(), query));
  return r;
}
