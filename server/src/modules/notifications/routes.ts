import Router from '@koa/router';
import { NotificationsApi, type SubscribeGrantCounts, type SubscribeTemplateIds } from '@heat-butler/shared';
import { route } from '../../platform/http';
import type { NotificationsService } from './service';

export function notificationsRoutes(notifications: NotificationsService): Router {
  const r = new Router();

  /** The configured subscription template ids (the client passes them to wx.requestSubscribeMessage). */
  route(r, { ...NotificationsApi.templates, auth: 'public' }, (): SubscribeTemplateIds => ({ templates: notifications.templates() }));

  /** What the resident allowed in wx.requestSubscribeMessage: one grant per accepted template. */
  route(r, { ...NotificationsApi.reportGrants, auth: ['resident'] }, ({ body, resident }): Promise<SubscribeGrantCounts> =>
    notifications.recordGrants(resident().residentId, body.results),
  );

  route(r, { ...NotificationsApi.grants, auth: ['resident'] }, ({ resident }): Promise<SubscribeGrantCounts> => notifications.grants(resident().residentId));

  return r;
}
