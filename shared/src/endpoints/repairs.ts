import { z } from 'zod';
import { endpoint, FILE, json } from '../api/endpoint';
import { IdParams, type Page } from '../api/common';
import {
  AssignRequest,
  CallbackDoneRequest,
  ConsentRequest,
  CreateRepairRequest,
  MeasurementBookRequest,
  MeasurementRecordRequest,
  MeasurementRescheduleRequest,
  RateRepairRequest,
  RepairReportQuery,
  RepairReportRequest,
  RescheduleRequest,
  ResolveRequest,
  RulingRefundRequest,
  RulingRequest,
  SideRequest,
  StaffRepairQuery,
  WatchListQuery,
  type RepairReportView,
  type RepairView,
  type StaffRepairView,
  type WatchListView,
} from '../api/repairs';
import type { RefundView } from '../api/billing';
import { intId } from '../inputs';
import type { Compliance, RepairCategory } from '../repairs';
import type { RepairPriceItem } from '../company';
import type { StaffRole } from '../roles';
import type { TransitionTable } from '../state-machine';

/** A window of the day in which measurements may be booked ("06:00"–"08:00", China time). */
export interface TimeWindow {
  start: string;
  end: string;
}

/** What the repair form offers: categories, the price list, the measurement windows. */
export interface RepairOptions {
  /** emergency: the company counts the category as one (settings: repairs.categories) */
  categories: { value: RepairCategory; label: string; emergency: boolean }[];
  /** the company's price list (settings: repairs.priceList) */
  priceList: RepairPriceItem[];
  measurementWindows: TimeWindow[];
}

export interface RepairNotice {
  id: number;
  /** the repair ticket; for kind 'complaint' (a complaint's escalation) the complaint */
  ticketId: number;
  /** escalation | dispatch | complaint */
  kind: string;
  text: string;
  createdAt: string;
  read: boolean;
}

/** Someone a dispatcher may assign a ticket to, with the open tickets they hold. */
export interface RepairAssignee {
  id: number;
  name: string;
  roles: StaffRole[];
  open: number;
}

/** A satisfaction call due after a closed ticket. */
export interface CallbackTask {
  id: number;
  ticketId: number;
  scheduledAt: string;
  dueAt: string;
  minutesLeft: number | null;
  /** calls made so far that nobody answered (未接通) */
  attempts: number;
  ticket: RepairView | StaffRepairView | undefined;
}

export const NoticesReadBody = z.object({ upToId: intId().optional() });

/** 报修: tickets (residents), dispatch, field work, callbacks, insights (staff). */
export const RepairsApi = {
  options: endpoint({ method: 'get', path: '/repairs/options', response: json<RepairOptions>() }),
  create: endpoint({ method: 'post', path: '/repairs', body: CreateRepairRequest, status: 201, response: json<RepairView>() }),
  list: endpoint({ method: 'get', path: '/repairs', response: json<{ items: RepairView[] }>() }),
  get: endpoint({ method: 'get', path: '/repairs/:id', params: IdParams, response: json<RepairView>() }),
  cancel: endpoint({ method: 'post', path: '/repairs/:id/cancel', params: IdParams, response: json<RepairView>() }),
  consent: endpoint({ method: 'post', path: '/repairs/:id/consent', params: IdParams, body: ConsentRequest, response: json<RepairView>() }),
  rate: endpoint({ method: 'post', path: '/repairs/:id/rating', params: IdParams, body: RateRepairRequest, response: json<RepairView>() }),
  /** 催单 on an overdue ticket (the company's interval between two) */
  urge: endpoint({ method: 'post', path: '/repairs/:id/urge', params: IdParams, response: json<RepairView>() }),
  /** 改约: move the booked visit (the company's number of changes and notice) */
  reschedule: endpoint({ method: 'post', path: '/repairs/:id/slot', params: IdParams, body: RescheduleRequest, response: json<RepairView>() }),

  staffList: endpoint({ method: 'get', path: '/staff/repairs', query: StaffRepairQuery, response: json<Page<StaffRepairView> & { now?: string }>() }),
  notices: endpoint({ method: 'get', path: '/staff/repairs/notices', response: json<{ items: RepairNotice[] }>() }),
  readNotices: endpoint({ method: 'post', path: '/staff/repairs/notices/read', body: NoticesReadBody, response: json<{ marked: number }>() }),
  callbacks: endpoint({ method: 'get', path: '/staff/repairs/callbacks', response: json<{ items: CallbackTask[]; quiet?: boolean }>() }),
  callbackDone: endpoint({
    method: 'post',
    path: '/staff/repairs/callbacks/:id',
    params: IdParams,
    body: CallbackDoneRequest,
    /** retryAt: 未接通 and another try is scheduled (the task stays in the list from then) */
    response: json<{ ok: boolean; retryAt?: string }>(),
  }),
  watchList: endpoint({ method: 'get', path: '/staff/repairs/watch-list', query: WatchListQuery, response: json<WatchListView>() }),
  report: endpoint({ method: 'get', path: '/staff/repairs/report', query: RepairReportQuery, response: json<RepairReportView>() }),
  reportExport: endpoint({ method: 'get', path: '/staff/repairs/report/export', query: RepairReportQuery, response: FILE }),
  staffGet: endpoint({ method: 'get', path: '/staff/repairs/:id', params: IdParams, response: json<StaffRepairView>() }),
  assignees: endpoint({ method: 'get', path: '/staff/repairs/:id/assignees', params: IdParams, response: json<{ items: RepairAssignee[] }>() }),
  assign: endpoint({ method: 'post', path: '/staff/repairs/:id/assign', params: IdParams, body: AssignRequest, response: json<StaffRepairView>() }),
  grab: endpoint({ method: 'post', path: '/staff/repairs/:id/grab', params: IdParams, response: json<StaffRepairView>() }),
  contact: endpoint({ method: 'post', path: '/staff/repairs/:id/contact', params: IdParams, response: json<StaffRepairView>() }),
  arrive: endpoint({ method: 'post', path: '/staff/repairs/:id/arrive', params: IdParams, response: json<StaffRepairView>() }),
  side: endpoint({ method: 'post', path: '/staff/repairs/:id/side', params: IdParams, body: SideRequest, response: json<StaffRepairView>() }),
  resolve: endpoint({ method: 'post', path: '/staff/repairs/:id/resolve', params: IdParams, body: ResolveRequest, response: json<StaffRepairView>() }),
  submitReport: endpoint({ method: 'post', path: '/staff/repairs/:id/report', params: IdParams, body: RepairReportRequest, response: json<StaffRepairView>() }),
};

export const MEASUREMENT_STATES = ['booked', 'recorded', 'ruled', 'cancelled'] as const;
export type MeasurementState = (typeof MEASUREMENT_STATES)[number];

/** Who moves a measurement where (a reschedule is booked → booked, with the new time in the timeline). */
export const MEASUREMENT_TRANSITIONS: TransitionTable<MeasurementState, 'resident' | 'staff'> = [
  { from: 'booked', to: 'booked', by: ['resident'] },
  { from: 'booked', to: 'cancelled', by: ['resident'] },
  { from: 'booked', to: 'recorded', by: ['staff'] },
  { from: 'recorded', to: 'ruled', by: ['staff'] },
];

/** A room-temperature measurement (resident's booking, readings, the station's ruling). */
export interface MeasurementView {
  id: number;
  no: string;
  accountId: number;
  address: string;
  threeParty: boolean;
  scheduledAt: string;
  status: MeasurementState;
  measuredAt: string | null;
  minReadingC: number | null;
  compliance: Compliance | null;
  complianceLabel: string | null;
  readings: { room: string; readingC: number; photo: string | null; checks: Record<string, boolean> }[];
  parties: { company: string; resident: string; community: string } | null;
  rulingRefundFen: number | null;
  rulingNote: string | null;
  refundId: number | null;
}

/** A paid order of the measured account that a ruling's refund may go to. */
export interface RefundableOrder {
  id: number;
  outTradeNo: string;
  description: string;
  /** the order's total (a pay-all order also pays other seasons) */
  amountFen: number;
  /** the bill of the measurement's season the order paid, and what it paid for it */
  billId: number;
  seasonFen: number;
  /** what of the season's part is still refundable */
  refundableFen: number;
  paidAt: string | null;
}

/** 测温: bookings (residents and staff), readings, rulings and their refunds. */
export const MeasurementsApi = {
  book: endpoint({ method: 'post', path: '/measurements', body: MeasurementBookRequest, status: 201, response: json<MeasurementView>() }),
  list: endpoint({ method: 'get', path: '/measurements', response: json<{ items: MeasurementView[] }>() }),
  cancel: endpoint({ method: 'post', path: '/measurements/:id/cancel', params: IdParams, response: json<MeasurementView>() }),
  reschedule: endpoint({
    method: 'post',
    path: '/measurements/:id/reschedule',
    params: IdParams,
    body: MeasurementRescheduleRequest,
    response: json<MeasurementView>(),
  }),
  staffList: endpoint({ method: 'get', path: '/staff/measurements', response: json<{ items: MeasurementView[] }>() }),
  staffBook: endpoint({ method: 'post', path: '/staff/measurements', body: MeasurementBookRequest, status: 201, response: json<MeasurementView>() }),
  record: endpoint({
    method: 'post',
    path: '/staff/measurements/:id/readings',
    params: IdParams,
    body: MeasurementRecordRequest,
    response: json<MeasurementView>(),
  }),
  rule: endpoint({ method: 'post', path: '/staff/measurements/:id/ruling', params: IdParams, body: RulingRequest, response: json<MeasurementView>() }),
  orders: endpoint({ method: 'get', path: '/staff/measurements/:id/orders', params: IdParams, response: json<{ items: RefundableOrder[] }>() }),
  refund: endpoint({
    method: 'post',
    path: '/staff/measurements/:id/refund',
    params: IdParams,
    body: RulingRefundRequest,
    status: 201,
    response: json<{ measurement: MeasurementView; refund: RefundView }>(),
  }),
};
