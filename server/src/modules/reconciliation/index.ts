// The reconciliation module's facade: the only file other code imports (app.ts, the CLI).
export { ReconciliationService, type ReconciliationOptions, type RunOptions, type RunProgress } from './service';
export { reconciliationRoutes } from './routes';
export { reconciliationEntities } from './entities';
