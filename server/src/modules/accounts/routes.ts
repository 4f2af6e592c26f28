import Router from '@koa/router';
import { AccountsApi, type BoundAccountList, MAX_BINDINGS_PER_RESIDENT } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { clientAddress } from '../../platform/limits';
import { ANY_STAFF, staffAreaFilter } from '../../platform/auth';
import type { AccountsService } from './service';

export function accountsRoutes(accounts: AccountsService): Router {
  const r = new Router();

  route(r, { ...AccountsApi.list, auth: ['resident'] }, async ({ resident }): Promise<BoundAccountList> => ({
    items: await accounts.listBound(resident().residentId),
    max: MAX_BINDINGS_PER_RESIDENT,
  }));

  route(r, { ...AccountsApi.bind, auth: ['resident'] }, ({ body, resident, ctx }) => accounts.bind(resident().residentId, body, clientAddress(ctx)));

  route(r, { ...AccountsApi.get, auth: ['resident'] }, ({ params, resident }) => accounts.boundAccount(resident().residentId, params.accountId));

  route(r, { ...AccountsApi.unbind, auth: ['resident'] }, async ({ params, resident }) => {
    await accounts.unbind(resident().residentId, params.accountId);
  });

  route(r, { ...AccountsApi.staffSearch, auth: ANY_STAFF }, ({ query, staff }) =>
    accounts.searchForStaff(staffAreaFilter(staff()), query.q, query.page, query.pageSize),
  );

  return r;
}
