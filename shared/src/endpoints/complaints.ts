import { endpoint, json } from '../api/endpoint';
import { IdParams, type Page } from '../api/common';
import {
  ComplaintCallbackRequest,
  ComplaintExtendRequest,
  ComplaintResolveRequest,
  FileComplaintRequest,
  HazardLedgerQuery,
  StaffComplaintQuery,
  StaffFileComplaintRequest,
  WatchTaskDoneRequest,
  WatchTaskQuery,
  type ComplaintView,
  type HazardLedgerView,
  type StaffComplaintView,
  type WatchTaskView,
} from '../api/complaints';

/** 投诉: residents file and follow theirs; staff register hotline complaints and work them. */
export const ComplaintsApi = {
  file: endpoint({ method: 'post', path: '/complaints', body: FileComplaintRequest, status: 201, response: json<ComplaintView>() }),
  list: endpoint({ method: 'get', path: '/complaints', response: json<{ items: ComplaintView[] }>() }),
  get: endpoint({ method: 'get', path: '/complaints/:id', params: IdParams, response: json<ComplaintView>() }),
  staffFile: endpoint({ method: 'post', path: '/staff/complaints', body: StaffFileComplaintRequest, status: 201, response: json<StaffComplaintView>() }),
  staffList: endpoint({ method: 'get', path: '/staff/complaints', query: StaffComplaintQuery, response: json<Page<StaffComplaintView>>() }),
  staffGet: endpoint({ method: 'get', path: '/staff/complaints/:id', params: IdParams, response: json<StaffComplaintView>() }),
  take: endpoint({ method: 'post', path: '/staff/complaints/:id/take', params: IdParams, response: json<StaffComplaintView>() }),
  extend: endpoint({
    method: 'post',
    path: '/staff/complaints/:id/extend',
    params: IdParams,
    body: ComplaintExtendRequest,
    response: json<StaffComplaintView>(),
  }),
  resolve: endpoint({
    method: 'post',
    path: '/staff/complaints/:id/resolve',
    params: IdParams,
    body: ComplaintResolveRequest,
    response: json<StaffComplaintView>(),
  }),
  callback: endpoint({
    method: 'post',
    path: '/staff/complaints/:id/callback',
    params: IdParams,
    body: ComplaintCallbackRequest,
    response: json<StaffComplaintView>(),
  }),
};

/** The low-temperature watch program (Heihe 004): visit and re-measure tasks, the hazard ledger. */
export const WatchApi = {
  tasks: endpoint({ method: 'get', path: '/staff/watch/tasks', query: WatchTaskQuery, response: json<Page<WatchTaskView>>() }),
  done: endpoint({ method: 'post', path: '/staff/watch/tasks/:id/done', params: IdParams, body: WatchTaskDoneRequest, response: json<WatchTaskView>() }),
  hazards: endpoint({ method: 'get', path: '/staff/watch/hazards', query: HazardLedgerQuery, response: json<HazardLedgerView>() }),
};
