import Router from '@koa/router';
import { CompanyApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import type { CompanyService } from './service';

export function companyRoutes(company: CompanyService): Router {
  const r = new Router();
  route(r, { ...CompanyApi.info, auth: 'public' }, () => company.info());
  return r;
}
