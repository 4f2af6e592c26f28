/**
 * Every module's entities, registered once here. A module owns its tables; other modules call
 * its service, never its tables.
 */
import { platformEntities } from '../entities';
import { uploadsEntities } from '../uploads/entities';
import { companyEntities } from '../../modules/company/entities';
import { identityEntities } from '../../modules/identity/entities';
import { accountsEntities } from '../../modules/accounts/entities';
import { billingEntities } from '../../modules/billing/entities';
import { paymentsEntities } from '../../modules/payments/entities';
import { reconciliationEntities } from '../../modules/reconciliation/entities';
import { serviceChangesEntities } from '../../modules/service-changes/entities';
import { repairsEntities } from '../../modules/repairs/entities';
import { groupsEntities } from '../../modules/groups/entities';
import { invoicesEntities } from '../../modules/invoices/entities';
import { adminEntities } from '../../modules/admin/entities';
import { notificationsEntities } from '../../modules/notifications/entities';
import { moderationEntities } from '../../modules/moderation/entities';

export const allEntities: Function[] = [...platformEntities, ...uploadsEntities, ...companyEntities, ...identityEntities, ...accountsEntities, ...billingEntities, ...paymentsEntities, ...reconciliationEntities, ...serviceChangesEntities, ...repairsEntities, ...groupsEntities, ...invoicesEntities, ...adminEntities, ...notificationsEntities, ...moderationEntities];
