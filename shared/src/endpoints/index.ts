/**
 * Every route descriptor, by domain. The server declares each of them with route() (a test checks
 * that the route table and this list are the same); the mini-program calls them through
 * services/api/<domain>.ts.
 */
import type { Endpoint } from '../api/endpoint';
import { AccountsApi, CompanyApi, IdentityApi } from './identity';
import { BillingApi, PaymentsApi } from './billing';
import { InvoicesApi } from './invoices';
import { ModerationApi, NotificationsApi, UploadsApi } from './platform';
import { ServiceChangesApi } from './service-changes';
import { ReconciliationApi } from './reconciliation';
import { AdminApi } from './admin';
import { MeasurementsApi, RepairsApi } from './repairs';
import { GroupsApi } from './groups';
import { ComplaintsApi, WatchApi } from './complaints';

export * from './identity';
export * from './billing';
export * from './invoices';
export * from './platform';
export * from './service-changes';
export * from './reconciliation';
export * from './admin';
export * from './repairs';
export * from './groups';
export * from './complaints';

export const API_DOMAINS = {
  identity: IdentityApi,
  accounts: AccountsApi,
  company: CompanyApi,
  billing: BillingApi,
  payments: PaymentsApi,
  invoices: InvoicesApi,
  notifications: NotificationsApi,
  moderation: ModerationApi,
  uploads: UploadsApi,
  serviceChanges: ServiceChangesApi,
  reconciliation: ReconciliationApi,
  admin: AdminApi,
  repairs: RepairsApi,
  measurements: MeasurementsApi,
  groups: GroupsApi,
  complaints: ComplaintsApi,
  watch: WatchApi,
} satisfies Record<string, Record<string, Endpoint>>;

/** Every descriptor, once. */
export function allEndpoints(): Endpoint[] {
  return Object.values(API_DOMAINS).flatMap((d) => Object.values(d) as Endpoint[]);
}
