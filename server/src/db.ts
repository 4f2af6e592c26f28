/**
 * The app's database: the platform's DataSource factory with every module's tables, registered
 * once here (the platform itself knows no module). A module owns its tables; other modules call
 * its service, never its tables.
 */
import type { DataSource } from 'typeorm';
import { createDataSource as createDataSourceOf, type DbOptions } from './platform/db/data-source';
import { platformEntities } from './platform/entities';
import { uploadsEntities } from './platform/uploads/entities';
import { companyEntities } from './modules/company';
import { identityEntities } from './modules/identity';
import { accountsEntities } from './modules/accounts';
import { billingEntities } from './modules/billing';
import { paymentsEntities } from './modules/payments';
import { reconciliationEntities } from './modules/reconciliation';
import { serviceChangesEntities } from './modules/service-changes';
import { repairsEntities } from './modules/repairs';
import { groupsEntities } from './modules/groups';
import { invoicesEntities } from './modules/invoices';
import { adminEntities } from './modules/admin';
import { notificationsEntities } from './modules/notifications';
import { moderationEntities } from './modules/moderation';
import { complaintsEntities } from './modules/complaints';

export const allEntities: Function[] = [
  ...platformEntities,
  ...uploadsEntities,
  ...companyEntities,
  ...identityEntities,
  ...accountsEntities,
  ...billingEntities,
  ...paymentsEntities,
  ...reconciliationEntities,
  ...serviceChangesEntities,
  ...repairsEntities,
  ...groupsEntities,
  ...invoicesEntities,
  ...adminEntities,
  ...notificationsEntities,
  ...moderationEntities,
  ...complaintsEntities,
];

/** The one DataSource factory of the app (MySQL/MariaDB or embedded SQLite), with all tables. */
export function createDataSource(opts: DbOptions): DataSource {
  return createDataSourceOf(opts, allEntities);
}
