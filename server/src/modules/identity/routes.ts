import Router from '@koa/router';
import { IdentityApi, type MeResponse } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { clientAddress } from '../../platform/limits';
import type { IdentityService } from './service';
import type { AccountsService } from '../accounts';

export function identityRoutes(identity: IdentityService, accounts: AccountsService): Router {
  const r = new Router();

  route(r, { ...IdentityApi.wechatLogin, auth: 'public' }, ({ body }) => identity.loginWithWechat(body.code));

  route(r, { ...IdentityApi.staffLogin, auth: 'public' }, ({ body, ctx }) => identity.loginStaff(body.username, body.password, clientAddress(ctx)));

  route(r, { ...IdentityApi.staffWechatLogin, auth: 'public' }, ({ body }) => identity.loginStaffWithWechat(body.code));

  route(r, { ...IdentityApi.staffBindWechat, auth: 'public' }, ({ body, ctx }) => identity.bindStaffWechat(body.code, body.inviteCode, clientAddress(ctx)));

  route(r, { ...IdentityApi.logout, auth: ['resident', 'agent', 'butler', 'dispatcher', 'worker', 'station', 'finance', 'admin'] }, async ({ principal }) => {
    await identity.logout(principal!.sessionId);
  });

  route(
    r,
    { ...IdentityApi.me, auth: ['resident', 'agent', 'butler', 'dispatcher', 'worker', 'station', 'finance', 'admin'] },
    async ({ principal }): Promise<MeResponse> => {
      const p = principal!;
      if (p.kind === 'resident') {
        const resident = await identity.resident(p.residentId);
        return { kind: 'resident', id: resident.id, nickname: resident.nickname, bindingCount: await accounts.countBound(resident.id) };
      }
      const [staff] = await identity.staffByIds([p.staffId]);
      return { kind: 'staff', id: staff.id, name: staff.name, username: staff.username, roles: staff.roles, areaIds: p.areaIds };
    },
  );

  route(r, { ...IdentityApi.createInvite, auth: ['admin'] }, ({ body, staff }) => identity.createInvite(body.staffId, staff().staffId));

  return r;
}
