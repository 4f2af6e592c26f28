// The invoices module's facade: the only file other modules (and app.ts) import.
export { InvoicesService, type InvoicesOptions } from './service';
export { invoicesReactions } from './reactions';
export { invoicesRoutes } from './routes';
export { invoicesEntities } from './entities';
