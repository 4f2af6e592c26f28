import { z } from 'zod';

import { useNaturalMessages } from './zod-messages';

// Validation messages in natural Simplified Chinese everywhere (server answers and mini-program
// forms): zod's Chinese locale as the floor, our own wording (no schema words) above it.
z.config(z.locales.zhCN());
useNaturalMessages();

export * from './errors';
export { naturalMessage, SCHEMA_WORDS } from './zod-messages';
export * from './money';
export * from './inputs';
export * from './person';
export * from './account';
export * from './roles';
export * from './company';
export * from './taxid';
export * from './state-machine';
export * from './time';
export * from './billing';
export * from './notifications';
export * from './moderation';
export * from './privacy';
export * from './invoicing';
export * from './service-changes';
export * from './api/common';
export * from './api/identity';
export * from './api/accounts';
export * from './api/billing';
export * from './api/invoices';
export * from './repairs';
export * from './measurement';
export * from './overdue';
export * from './complaints';
export * from './api/complaints';
export * from './api/repairs';
export * from './api/uploads';
export * from './api/groups';
export * from './api/service-changes';
export * from './api/reconciliation';
export * from './admin';
export * from './realtime';
export * from './api/endpoint';
export * from './endpoints';
