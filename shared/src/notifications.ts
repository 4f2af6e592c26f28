import { z } from 'zod';

/**
 * WeChat subscription-message templates the app asks residents to allow. The template ids are
 * per mini-program: the company applies for each template in the WeChat admin console and sets
 * its id on the server (WECHAT_TPL_* variables); the client asks the BFF for them
 * (`GET /api/v1/notifications/templates`). `fields` are the template's data keys with the label
 * to pick in the console (docs/SHIPPING.md lists them).
 */
export const SUBSCRIBE_TEMPLATES = {
  paymentSuccess: {
    title: '缴费成功通知',
    env: 'WECHAT_TPL_PAYMENT_SUCCESS',
    fields: { character_string1: '订单号', amount2: '缴费金额', thing3: '缴费项目', time4: '缴费时间' },
  },
  refund: {
    title: '退款通知',
    env: 'WECHAT_TPL_REFUND',
    fields: { character_string1: '订单号', amount2: '退款金额', thing3: '退款原因', time4: '退款时间' },
  },
  invoiceIssued: {
    title: '电子发票开具成功通知',
    env: 'WECHAT_TPL_INVOICE_ISSUED',
    fields: { character_string1: '发票号码', amount2: '开票金额', thing3: '发票抬头', time4: '开票时间' },
  },
  repairProgress: {
    title: '报修进度通知',
    env: 'WECHAT_TPL_REPAIR_PROGRESS',
    fields: { character_string1: '报修单号', thing2: '处理说明', phrase3: '处理状态', time4: '更新时间' },
  },
  serviceChangeProgress: {
    title: '报停复供办理进度通知',
    env: 'WECHAT_TPL_SERVICE_CHANGE',
    fields: { thing1: '办理事项', phrase2: '办理状态', thing3: '备注', time4: '更新时间' },
  },
  complaintProgress: {
    title: '投诉处理进度通知',
    env: 'WECHAT_TPL_COMPLAINT_PROGRESS',
    fields: { character_string1: '投诉单号', thing2: '处理结果', phrase3: '处理状态', time4: '更新时间' },
  },
  announcement: {
    title: '供热公告通知',
    env: 'WECHAT_TPL_ANNOUNCEMENT',
    fields: { thing1: '公告标题', thing2: '公告类型', time3: '发布时间', thing4: '温馨提示' },
  },
} as const;
export type SubscribeTemplate = keyof typeof SUBSCRIBE_TEMPLATES;
export const SUBSCRIBE_TEMPLATE_KEYS = Object.keys(SUBSCRIBE_TEMPLATES) as SubscribeTemplate[];

/** Which templates the resident is asked for where they act (≤3 per wx.requestSubscribeMessage). */
export const SUBSCRIBE_ASKS = {
  pay: ['paymentSuccess', 'refund', 'invoiceIssued'],
  invoice: ['invoiceIssued'],
  repair: ['repairProgress'],
  complaint: ['complaintProgress'],
  serviceChange: ['serviceChangeProgress'],
  announcement: ['announcement'],
} as const satisfies Record<string, readonly SubscribeTemplate[]>;
export type SubscribeAsk = keyof typeof SUBSCRIBE_ASKS;

/** `GET /api/v1/notifications/templates`: the configured template id of each template. */
export interface SubscribeTemplateIds {
  templates: Record<SubscribeTemplate, string>;
}

/**
 * `POST /api/v1/notifications/grants`: what wx.requestSubscribeMessage answered, e.g.
 * `{ "<templateId>": "accept" }` (errMsg may be included; it is ignored).
 */
export const SubscribeGrantReport = z.object({
  results: z.record(z.string().max(128), z.string().max(64)).refine((r) => Object.keys(r).length <= 10, '最多 10 项'),
});
export type SubscribeGrantReport = z.infer<typeof SubscribeGrantReport>;

/** How many messages of each template the resident can still receive (one per accepted grant). */
export interface SubscribeGrantCounts {
  counts: Record<SubscribeTemplate, number>;
  /** templates accepted by this report (POST only) */
  accepted?: SubscribeTemplate[];
}
