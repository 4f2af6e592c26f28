// The complaints module's facade: complaints (投诉) and the low-temperature watch program (Heihe 004).
export { ComplaintsService, type ComplaintsOptions } from './service';
export { WatchProgram, type WatchOptions } from './watch';
export { complaintsRoutes } from './routes';
export { complaintsEntities } from './entities';
