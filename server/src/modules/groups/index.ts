// The groups module's facade: the only file other modules (and app.ts) import.
export { GroupsService, type GroupsDeps } from './service';
export { groupsRoutes } from './routes';
export { groupsEntities } from './entities';
export { groupsReactions } from './reactions';
