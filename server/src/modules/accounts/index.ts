// The accounts module's facade: the only file other modules (and app.ts) import. Entity classes
// leave the module as types only, so nobody else can query or write accounts' tables.
export { AccountsService, type BindingChange } from './service';
export { accountsRoutes } from './routes';
export { accountsEntities } from './entities';
export type { Account, Building, Unit } from './entities';
