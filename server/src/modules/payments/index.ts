// The payments module's facade: the only file other modules (and app.ts) import. Entity classes
// leave the module as types only.
export { PaymentsService, type CreditResult, type PaymentsOptions } from './service';
export { refundView, type BillPayment } from './refunds';
export { paymentsReactions } from './reactions';
export { paymentsRoutes, payNotifyRoutes } from './routes';
export { paymentsEntities } from './entities';
export type { LedgerEntry, PaymentOrder, Refund } from './entities';
export type { LedgerHit, LedgerQueries } from './ledger-queries';
