// The notifications module's facade: the only file other modules (and app.ts) import.
export { NotificationsService, type NotificationsOptions } from './service';
export { notificationsRoutes } from './routes';
export { notificationsEntities } from './entities';
