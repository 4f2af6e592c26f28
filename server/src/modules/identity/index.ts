// The identity module's facade: the only file other modules (and app.ts) import. Entity classes
// leave the module as types only.
export { IdentityService, type IdentityDeps, type SessionChange } from './service';
export { identityRoutes } from './routes';
export { identityEntities } from './entities';
export type { Staff } from './entities';
