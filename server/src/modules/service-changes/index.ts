// The service-changes module's facade: the only file other modules (and app.ts) import.
export { ServiceChangesService, type ServiceChangesOptions } from './service';
export { serviceChangesReactions } from './reactions';
export { serviceChangesRoutes } from './routes';
export { serviceChangesEntities } from './entities';
