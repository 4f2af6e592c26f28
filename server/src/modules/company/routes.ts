import Router from '@koa/router';
import { route } from '../../platform/http';
import type { CompanyService } from './service';

export function companyRoutes(company: CompanyService): Router {
  const r = new Router();
  route(r, { method: 'get', path: '/company', auth: 'public' }, () => company.info());
  return r;
}
