import Router from '@koa/router';
import { z } from 'zod';
import { BindRequest, IdParam, MAX_BINDINGS_PER_RESIDENT, PageQuery, type BoundAccountList } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { clientAddress } from '../../platform/limits';
import { ANY_STAFF, staffAreaFilter } from '../../platform/auth';
import type { AccountsService } from './service';

const AccountIdParams = z.object({ accountId: IdParam });

export function accountsRoutes(accounts: AccountsService): Router {
  const r = new Router();

  route(r, { method: 'get', path: '/accounts', auth: ['resident'] }, async ({ resident }): Promise<BoundAccountList> => ({
    items: await accounts.listBound(resident().residentId),
    max: MAX_BINDINGS_PER_RESIDENT,
  }));

  route(r, { method: 'post', path: '/accounts/bind', auth: ['resident'], body: BindRequest, status: 201 }, ({ body, resident, ctx }) =>
    accounts.bind(resident().residentId, body, clientAddress(ctx)),
  );

  route(r, { method: 'get', path: '/accounts/:accountId', auth: ['resident'], params: AccountIdParams }, ({ params, resident }) =>
    accounts.boundAccount(resident().residentId, params.accountId),
  );

  route(r, { method: 'delete', path: '/accounts/:accountId/binding', auth: ['resident'], params: AccountIdParams }, async ({ params, resident }) => {
    await accounts.unbind(resident().residentId, params.accountId);
  });

  route(
    r,
    { method: 'get', path: '/staff/accounts', auth: ANY_STAFF, query: PageQuery.extend({ q: z.string().trim().max(32).optional() }) },
    ({ query, staff }) => accounts.searchForStaff(staffAreaFilter(staff()), query.q, query.page, query.pageSize),
  );

  return r;
}
