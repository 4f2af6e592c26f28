// The admin module's facade: the only file other code imports (app.ts, the import CLI).
export { AdminService, type AdminDeps } from './service';
export { adminRoutes } from './routes';
export { adminEntities } from './entities';
export { CLI_ACTOR, type AdminActor } from './audit';
export { formatOf } from './households';
export type { ImportProgress } from './import';
