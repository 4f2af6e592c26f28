// The repairs module's facade: the only file other modules (and app.ts) import.
export { RepairsService, type RepairsOptions, type ColdFix, type ComplainingHousehold, type ForeignEscalation } from './service';
export { MeasurementsService } from './measurements';
export { repairsRoutes } from './routes';
export { repairsReactions } from './reactions';
export { repairsEntities } from './entities';
