// The company module's facade: the only file other modules (and app.ts) import.
export { CompanyService } from './service';
export { companyRoutes } from './routes';
export { companyEntities } from './entities';
export type { Area, Company } from './entities';
