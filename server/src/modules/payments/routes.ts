import Router from '@koa/router';
import { z } from 'zod';
import { CreatePaymentRequest, IdParam, ORDER_STATES, PageQuery, RefundRequest } from '@heat-butler/shared';
import { route } from '../../platform/http';
import { NotificationRejected, type PayClient } from '../../wechat/pay';
import { payNotification } from '../../platform/metrics';
import type { PaymentsService } from './service';

const OrderParams = z.object({ orderId: IdParam });

export function paymentsRoutes(payments: PaymentsService, pay: PayClient): Router {
  const r = new Router();

  route(r, { method: 'post', path: '/payments', auth: ['resident'], body: CreatePaymentRequest, status: 201 }, ({ body, resident }) =>
    payments.create(resident(), body.billId),
  );

  route(r, { method: 'get', path: '/payments', auth: ['resident'] }, async ({ resident }) => ({ items: await payments.historyForResident(resident().residentId) }));

  route(r, { method: 'get', path: '/payments/:orderId', auth: ['resident'], params: OrderParams }, ({ params, resident }) =>
    payments.orderForResident(resident().residentId, params.orderId),
  );

  route(r, { method: 'post', path: '/payments/:orderId/confirm', auth: ['resident'], params: OrderParams }, ({ params, resident }) =>
    payments.confirm(resident().residentId, params.orderId),
  );

  // ---- finance ----
  route(
    r,
    { method: 'get', path: '/staff/payments', auth: ['finance', 'admin'], query: PageQuery.extend({ status: z.enum(ORDER_STATES).optional(), no: z.string().trim().max(64).optional() }) },
    ({ query }) => payments.listForStaff(query),
  );

  route(r, { method: 'post', path: '/staff/payments/:orderId/refunds', auth: ['finance'], params: OrderParams, body: RefundRequest, status: 201 }, ({ params, body, staff }) =>
    payments.refund(staff(), params.orderId, body),
  );

  route(r, { method: 'get', path: '/staff/payment-anomalies', auth: ['finance', 'admin'] }, async () => ({ items: await payments.anomalies() }));

  // ---- WeChat Pay notifications (payments and refunds) ----
  // Verified over the raw body; 204 when applied or already applied; 4xx for anything forged or
  // unreadable (logged, nothing changes); 5xx when we cannot record it now, so WeChat retries.
  r.post('/wechat/pay/notify', async (ctx) => {
    const log = ctx.state.log;
    const rawBody: string | undefined = (ctx.request as any).rawBody;
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
