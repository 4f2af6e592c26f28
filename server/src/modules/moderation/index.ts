// The moderation module's facade: the only file other modules (and app.ts) import.
export { ModerationService, type ModerationOptions, type PhotoVerdict, type TextVerdict } from './service';
export { moderationRoutes } from './routes';
export { moderationEntities } from './entities';
