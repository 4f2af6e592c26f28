/**
 * WeChat subscription-message templates the app asks residents to allow. Ids are per mini-program
 * (set in config in production); the keys of `fields` are the template's data keys.
 */
export const SUBSCRIBE_TEMPLATES = {
  paymentSuccess: { id: 'TPL_PAYMENT_SUCCESS', title: '缴费成功通知', fields: ['character_string1', 'amount2', 'thing3', 'time4'] },
  refund: { id: 'TPL_REFUND', title: '退款通知', fields: ['character_string1', 'amount2', 'thing3', 'time4'] },
  invoiceIssued: { id: 'TPL_INVOICE_ISSUED', title: '电子发票开具成功通知', fields: ['character_string1', 'amount2', 'thing3', 'time4'] },
  repairProgress: { id: 'TPL_REPAIR_PROGRESS', title: '报修进度通知', fields: ['character_string1', 'thing2', 'phrase3', 'time4'] },
  // service-changes: one message per step (thing1 what, phrase2 status, thing3 detail, time4 when)
  serviceChangeProgress: { id: 'TPL_SERVICE_CHANGE', title: '报停复供办理进度通知', fields: ['thing1', 'phrase2', 'thing3', 'time4'] },
  announcement: { id: 'TPL_ANNOUNCEMENT', title: '供热公告通知', fields: ['thing1', 'thing2', 'time3', 'thing4'] },
} as const;
export type SubscribeTemplate = keyof typeof SUBSCRIBE_TEMPLATES;
