// The billing module's facade: the only file other modules (and app.ts) import. Entity classes
// leave the module as types only.
export { BillingService, seasonView } from './service';
export { billingRoutes } from './routes';
export { billingEntities } from './entities';
export type { Bill, Season } from './entities';
