import { endpoint, FILE, json } from '../api/endpoint';
import { IdParams, type Page } from '../api/common';
import { InviteResponse } from '../api/identity';
import {
  AreaRequest,
  AuditQuery,
  CompanySettings,
  CreateStaffRequest,
  ExportBillsQuery,
  ExportPaymentsQuery,
  ImportQuery,
  RenameAreaRequest,
  UpdateStaffRequest,
  type AreaView,
  type AuditEntryView,
  type ImportJobView,
  type StaffDashboard,
  type StaffView,
} from '../admin';

/** Company administration: household import/export, staff and areas, settings, audit; the staff dashboard. */
export const AdminApi = {
  importTemplate: endpoint({ method: 'get', path: '/admin/imports/template', response: FILE }),
  /** the file is the raw request body (XLSX or CSV) */
  startImport: endpoint({ method: 'post', path: '/admin/imports', query: ImportQuery, status: 202, response: json<ImportJobView>() }),
  imports: endpoint({ method: 'get', path: '/admin/imports', response: json<{ items: ImportJobView[] }>() }),
  importJob: endpoint({ method: 'get', path: '/admin/imports/:id', params: IdParams, response: json<ImportJobView>() }),
  importReport: endpoint({ method: 'get', path: '/admin/imports/:id/report', params: IdParams, response: FILE }),
  exportAccounts: endpoint({ method: 'get', path: '/admin/exports/accounts', response: FILE }),
  exportBills: endpoint({ method: 'get', path: '/admin/exports/bills', query: ExportBillsQuery, response: FILE }),
  exportPayments: endpoint({ method: 'get', path: '/admin/exports/payments', query: ExportPaymentsQuery, response: FILE }),

  staff: endpoint({ method: 'get', path: '/admin/staff', response: json<{ items: StaffView[] }>() }),
  createStaff: endpoint({ method: 'post', path: '/admin/staff', body: CreateStaffRequest, status: 201, response: json<StaffView>() }),
  updateStaff: endpoint({ method: 'put', path: '/admin/staff/:id', params: IdParams, body: UpdateStaffRequest, response: json<StaffView>() }),
  disableStaff: endpoint({ method: 'post', path: '/admin/staff/:id/disable', params: IdParams, response: json<StaffView>() }),
  unlockStaff: endpoint({ method: 'post', path: '/admin/staff/:id/unlock', params: IdParams, response: json<StaffView>() }),
  inviteStaff: endpoint({ method: 'post', path: '/admin/staff/:id/invite', params: IdParams, status: 201, response: InviteResponse }),

  areas: endpoint({ method: 'get', path: '/admin/areas', response: json<{ items: AreaView[] }>() }),
  createArea: endpoint({ method: 'post', path: '/admin/areas', body: AreaRequest, status: 201, response: json<AreaView>() }),
  renameArea: endpoint({ method: 'put', path: '/admin/areas/:id', params: IdParams, body: RenameAreaRequest, response: json<AreaView>() }),

  settings: endpoint({ method: 'get', path: '/admin/settings', response: CompanySettings }),
  updateSettings: endpoint({ method: 'put', path: '/admin/settings', body: CompanySettings, response: CompanySettings }),
  audit: endpoint({ method: 'get', path: '/admin/audit', query: AuditQuery, response: json<Page<AuditEntryView>>() }),

  dashboard: endpoint({ method: 'get', path: '/staff/dashboard', response: json<StaffDashboard>() }),
};
