import Router from '@koa/router';
import { PaymentsApi } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { NotificationRejected, type PayClient } from '../../wechat/pay';
import { payNotification } from '../../platform/metrics';
import type { PaymentsService } from './service';

export function paymentsRoutes(payments: PaymentsService, pay: PayClient): Router {
  const r = new Router();

  route(r, { ...PaymentsApi.create, auth: ['resident'] }, ({ body, resident }) => payments.create(resident(), body.billId));

  route(r, { ...PaymentsApi.payAll, auth: ['resident'] }, ({ body, resident }) => payments.createAll(resident(), body));

  route(r, { ...PaymentsApi.list, auth: ['resident'] }, async ({ resident }) => ({ items: await payments.historyForResident(resident().residentId) }));

  route(r, { ...PaymentsApi.get, auth: ['resident'] }, ({ params, resident }) => payments.orderForResident(resident().residentId, params.orderId));

  route(r, { ...PaymentsApi.confirm, auth: ['resident'] }, ({ params, resident }) => payments.confirm(resident().residentId, params.orderId));

  // ---- finance ----
  route(r, { ...PaymentsApi.staffList, auth: ['finance', 'admin'] }, ({ query }) => payments.listForStaff(query));

  route(r, { ...PaymentsApi.refund, auth: ['finance'] }, ({ params, body, staff }) => payments.refund(staff(), params.orderId, body));

  route(r, { ...PaymentsApi.anomalies, auth: ['finance', 'admin'] }, async () => ({
    items: (await payments.anomalies()).map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })),
  }));

  return r;
}

/**
 * WeChat Pay notifications (payments and refunds), a webhook of its own (app.ts mounts it ahead of
 * the API: no bearer token, the body as text). Verified over the raw body; 204 when applied or
 * already applied; 4xx for anything forged or unreadable (logged, nothing changes); 5xx when we
 * cannot record it now, so WeChat retries.
 */
export function payNotifyRoutes(payments: PaymentsService, pay: PayClient): Router {
  const r = new Router();
  r.post('/wechat/pay/notify', async (ctx) => {
    const log = ctx.state.log;
    const rawBody: Buffer | undefined = ctx.state.rawBody;
    let event;
    try {
      event = pay.verifyAndDecryptNotification({ headers: ctx.headers, rawBody: rawBody ?? '' });
    } catch (err) {
      if (err instanceof NotificationRejected) {
        log.warn({ reason: err.reason, serial: ctx.get('Wechatpay-Serial'), ip: ctx.ip }, 'pay notification rejected');
        ctx.status = 401;
        ctx.body = { code: 'FAIL', message: '签名验证失败' };
        payNotification('rejected');
        return;
      }
      throw err;
    }
    try {
      const result = await payments.applyNotification(event.eventType, event.resource);
      log.info({ eventId: event.id, eventType: event.eventType, result }, 'pay notification applied');
      ctx.status = 204;
      payNotification('applied');
    } catch (err: any) {
      log.error({ eventId: event.id, err: { message: err?.message } }, 'pay notification not recorded; WeChat will retry');
      ctx.status = 500;
      ctx.body = { code: 'FAIL', message: '失败' };
      payNotification('failed');
    }
  });

  return r;
}
