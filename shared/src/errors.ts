/**
 * The one catalogue of error codes: code -> HTTP status -> Chinese message for the user.
 * The mini-program shows `message`; tests assert `code`. Modules add their codes here.
 */
export const ERRORS = {
  // generic
  VALIDATION_FAILED: { status: 400, message: '填写的信息有误，请检查后重试' },
  MALFORMED_JSON: { status: 400, message: '请求格式不正确' },
  PAYLOAD_TOO_LARGE: { status: 413, message: '提交的内容过大，请删减内容或换一张较小的照片后重试' },
  HEADERS_TOO_LARGE: { status: 431, message: '请求地址过长' },
  BAD_REQUEST: { status: 400, message: '请求格式不正确' },
  UNAUTHENTICATED: { status: 401, message: '请先登录' },
  SESSION_EXPIRED: { status: 401, message: '登录已过期，请重新登录' },
  FORBIDDEN: { status: 403, message: '您没有权限进行此操作' },
  NOT_FOUND: { status: 404, message: '您要找的内容不存在' },
  ROUTE_NOT_FOUND: { status: 404, message: '接口不存在' },
  METHOD_NOT_ALLOWED: { status: 405, message: '不支持的请求方式' },
  CONFLICT: { status: 409, message: '该记录已存在或刚被他人修改，请刷新后重试' },
  INVALID_TRANSITION: { status: 409, message: '当前状态下不能进行此操作' },
  RATE_LIMITED: { status: 429, message: '操作过于频繁，请稍后再试' },
  INTERNAL: { status: 500, message: '系统繁忙，请稍后再试' },
  DB_UNAVAILABLE: { status: 503, message: '系统维护中，请稍后再试' },
  // WeChat login
  WECHAT_CODE_INVALID: { status: 400, message: '微信登录凭证无效或已过期，请重新登录' },
  WECHAT_CODE_USED: { status: 400, message: '微信登录凭证已被使用，请重新登录' },
  WECHAT_RATE_LIMITED: { status: 429, message: '登录过于频繁，请一分钟后再试' },
  WECHAT_BLOCKED: { status: 403, message: '微信账号存在风险，暂时无法登录' },
  WECHAT_UNAVAILABLE: { status: 502, message: '微信服务暂时不可用，请稍后再试' },
  // staff login
  BAD_CREDENTIALS: { status: 401, message: '用户名或密码错误' },
  STAFF_DISABLED: { status: 403, message: '该员工账号已停用' },
  INVITE_INVALID: { status: 400, message: '邀请码无效或已过期' },
  LOGIN_LOCKED: { status: 429, message: '密码错误次数过多，账号已暂时锁定' },
  USERNAME_EXISTS: { status: 409, message: '用户名已存在，请换一个用户名' },
  // accounts and binding
  ACCOUNT_NOT_FOUND: { status: 404, message: '未找到该户号，请核对缴费单上的户号' },
  BIND_FACT_MISMATCH: { status: 400, message: '户号与户主姓名或手机号后四位不一致，请核对缴费单' },
  BIND_ATTEMPTS_EXCEEDED: { status: 429, message: '绑定失败次数过多' },
  BIND_LIMIT_REACHED: { status: 409, message: '每位用户最多绑定10个户号' },
  ALREADY_BOUND: { status: 409, message: '您已绑定该户号' },
  BINDING_NOT_FOUND: { status: 404, message: '未找到该户号的绑定' },
  // bills and payments
  BILL_NOT_FOUND: { status: 404, message: '未找到该账单' },
  BILL_ALREADY_PAID: { status: 409, message: '该账单已缴清，无需重复缴费' },
  BILL_NOTHING_DUE: { status: 409, message: '该账单当前无需缴费' },
  BILL_VOID: { status: 409, message: '该账单已作废' },
  ARREARS_FIRST: { status: 409, message: '请先缴清往年欠费' },
  PAY_ALL_CHANGED: { status: 409, message: '待缴账单有变化，请刷新后重新缴费' },
  BILL_IN_PENDING_ORDER: { status: 409, message: '该账单有一笔待支付的订单（可能由其他家庭成员发起），请完成该笔支付或稍后再试' },
  REFUND_BILL_NOT_IN_ORDER: { status: 409, message: '该账单不在这笔订单中，或其可退金额不足' },
  SEASON_EXISTS: { status: 409, message: '该采暖季已存在' },
  SEASON_NOT_FOUND: { status: 404, message: '未找到该采暖季' },
  ORDER_NOT_FOUND: { status: 404, message: '未找到该支付订单' },
  PAYMENT_UNAVAILABLE: { status: 502, message: '微信支付暂时不可用，请稍后再试' },
  REFUND_EXCEEDS_PAID: { status: 409, message: '退款金额超过可退金额' },
  REFUND_NOT_ALLOWED: { status: 409, message: '该订单未支付，不能退款' },
  PAYMENT_IN_PROGRESS: { status: 409, message: '该账单正在支付中，请稍候刷新查看结果' },
  // service-changes (报停/复供)
  SERVICE_CHANGE_DEADLINE_PASSED: { status: 409, message: '该采暖季的报停/复供申请已截止，请申请下一采暖季' },
  SERVICE_CHANGE_ARREARS: { status: 409, message: '该户号有欠费未缴清，请先缴清欠费再申请报停' },
  SERVICE_CHANGE_LIMIT: { status: 409, message: '已超过本采暖季报停/复供次数限制' },
  SERVICE_CHANGE_EXISTS: { status: 409, message: '该户号本采暖季已有办理中的报停/复供申请' },
  SERVICE_CHANGE_DOCUMENTS_MISSING: { status: 400, message: '申请材料不齐全，请补充后提交' },
  SERVICE_CHANGE_NOT_ELIGIBLE: { status: 409, message: '该户号当前状态不能办理此项申请' },
  SERVICE_CHANGE_NOT_FOUND: { status: 404, message: '未找到该报停/复供申请' },
  SERVICE_CHANGE_NOT_APPLICANT: { status: 403, message: '只有提交申请的住户本人可以补正或撤销该申请，如需帮助请联系营业厅' },
  SERVICE_CHANGE_LATE_REASON: { status: 400, message: '逾期受理须由管理员填写原因' },
  VALVE_ORDER_NOT_FOUND: { status: 404, message: '未找到该阀门工单' },
  VALVE_ACTION_MISMATCH: { status: 400, message: '施工内容与工单不符' },
  // reconciliation (对账)
  RECON_DATE_INVALID: { status: 400, message: '对账日期不能晚于今天，且须在三个月以内' },
  RECON_BILL_NOT_READY: { status: 409, message: '微信支付账单尚未生成（通常次日10点后可下载），请稍后再试' },
  RECON_FETCH_FAILED: { status: 502, message: '下载或校验微信支付账单失败，未生成对账结果，请稍后重试' },
  RECON_BUSY: { status: 409, message: '该日正在对账，请稍后刷新' },
  DISCREPANCY_NOT_FOUND: { status: 404, message: '未找到该差异记录' },
  DISCREPANCY_ALREADY_RESOLVED: { status: 409, message: '该差异已处理' },
  // groups (管家群)
  GROUP_NOT_FOUND: { status: 404, message: '未找到该管家群，请先绑定本楼栋的户号' },
  MEMBER_MUTED: { status: 403, message: '您已被管家暂时禁言，请稍后再发言' },
  CONTENT_RISKY: { status: 422, message: '内容未通过微信内容安全检测，请修改后再提交' },
  CLAIMED_BY_OTHER: { status: 409, message: '该问题已由其他客服认领' },
  MESSAGE_NOT_FOUND: { status: 404, message: '未找到该消息' },
  ALREADY_REPORTED: { status: 409, message: '您已举报过该消息' },
  RESTORE_TIME_INVALID: { status: 400, message: '预计恢复时间须晚于当前时间' },
  MESSAGE_ALREADY_REPAIR: { status: 409, message: '该消息已转为报修工单' },
  // repairs and temperature measurements
  REPAIR_NOT_FOUND: { status: 404, message: '未找到该报修单' },
  COMPLAINT_NOT_FOUND: { status: 404, message: '未找到该投诉' },
  COMPLAINT_ALREADY_EXTENDED: { status: 409, message: '该投诉已按住户同意延长过办结时限，不能再次延长' },
  COMPLAINT_DUPLICATE_EXTERNAL_NO: { status: 409, message: '该热线工单号已登记过投诉，请在投诉列表中查找' },
  WATCH_TASK_NOT_FOUND: { status: 404, message: '未找到该走访任务' },
  WATCH_TASK_READING_REQUIRED: { status: 400, message: '复测任务请填写复测的室温读数' },
  REPAIR_ALREADY_TAKEN: { status: 409, message: '该工单已被其他师傅接单' },
  REPAIR_SLOT_INVALID: { status: 400, message: '预约时段不可用，请重新选择' },
  REPAIR_SIDE_REQUIRED: { status: 409, message: '请先确认维修责任方（公司产权或用户自有）' },
  REPAIR_CONSENT_REQUIRED: { status: 409, message: '有偿维修需住户在小程序确认费用后才能施工' },
  REPAIR_REPORT_SUBMITTED: { status: 409, message: '该工单的处置报告已提交，不能重复提交' },
  CALLBACK_ALREADY_DONE: { status: 409, message: '该回访已完成，请刷新列表' },
  REPAIR_ASSIGNEE_INVALID: { status: 400, message: '该员工不能处理此片区的工单' },
  REPAIR_URGE_NOT_DUE: { status: 409, message: '工单还在承诺时间内处理中，超时后可以催单' },
  REPAIR_URGE_TOO_SOON: { status: 429, message: '您刚催过单，我们正在加急处理，请稍后再催' },
  REPAIR_RESCHEDULE_USED: { status: 409, message: '预约时间只能修改一次，如需再改请拨打服务热线' },
  REPAIR_RESCHEDULE_TOO_LATE: { status: 409, message: '距预约上门时间太近，不能再修改，如需调整请拨打服务热线' },
  UPLOAD_INVALID: { status: 400, message: '图片格式不正确，请上传 JPG、PNG 或 WEBP 照片' },
  UPLOAD_TOO_LARGE: { status: 413, message: '照片太大，请换一张较小的照片或裁剪后再上传' },
  UPLOAD_NOT_FOUND: { status: 404, message: '照片不存在或已过期' },
  UPLOAD_LINK_EXPIRED: { status: 403, message: '图片链接已失效，请刷新页面后重试' },
  MEASUREMENT_OUTSIDE_WINDOW: { status: 400, message: '测温只能预约在 06:00-08:00 或 16:00-20:00' },
  MEASUREMENT_NOT_FOUND: { status: 404, message: '未找到该测温记录' },
  MEASUREMENT_DAY_TAKEN: { status: 409, message: '该户号当天已有测温预约，如需换时间请在预约记录中改约' },
  MEASUREMENT_NOT_CHANGEABLE: { status: 409, message: '该测温已上门完成或已取消，不能再取消或改约' },
  MEASUREMENT_REFUNDED: { status: 409, message: '该裁定已办理退费，不能重复退费' },
  MEASUREMENT_NOT_THREE_PARTY: { status: 409, message: '退费裁定需三方（供热公司、住户、社区）共同测温' },
  RULING_NO_REFUND: { status: 409, message: '该裁定无需退费' },
  RULING_ORDER_NOT_FOR_SEASON: { status: 409, message: '这笔订单未缴测温所在采暖季的热费，不能用于该裁定退费' },
  MEASUREMENT_COMPLIANT: { status: 409, message: '该次测温室温达标，不能裁定退费' },
  RULING_REFUND_NOT_YET: { status: 409, message: '按公司规定，测温退费在采暖季结束后统一支付' },
  RULING_NOT_RECORDED: { status: 400, message: '未找到该裁定单号对应的三方测温裁定，请核对后再试' },
  // invoices
  INVOICE_TITLE_NOT_FOUND: { status: 404, message: '未找到该发票抬头' },
  INVOICE_TITLE_LIMIT: { status: 409, message: '最多保存20个发票抬头' },
  INVOICE_NOT_FOUND: { status: 404, message: '未找到该发票' },
  INVOICE_ORDER_NOT_PAID: { status: 409, message: '该笔缴费尚未完成，暂不能开票' },
  INVOICE_ORDER_REFUNDED: { status: 409, message: '该笔缴费已全额退款，不能开票' },
  INVOICE_SPECIAL_NOT_ALLOWED: { status: 409, message: '居民供暖费免征增值税，只能开具普通发票' },
  INVOICE_NOT_READY: { status: 409, message: '发票尚未开具完成，请稍后再试' },
  INVOICE_NOT_RETRYABLE: { status: 409, message: '只有开具失败的发票可以重试' },
  INVOICE_EXISTS_OTHER_TITLE: {
    status: 409,
    message: '该笔缴费已开具发票，抬头与您这次填写的不同。如需更换抬头，请确认换开：原发票将红冲作废，按新抬头重新开具（每笔缴费只能换开一次）',
  },
  INVOICE_TITLE_CHANGED_ONCE: { status: 409, message: '每笔缴费只能更换一次发票抬头，这笔缴费的发票已经换开过，不能再次更换' },
  INVOICE_TITLE_UNCHANGED: { status: 409, message: '新抬头与当前发票的抬头相同，无需更换' },
  MAIL_UNAVAILABLE: { status: 502, message: '邮件发送失败，请稍后再试' },
  // admin (import, staff and areas)
  IMPORT_BUSY: { status: 409, message: '已有一个导入正在进行，请等待其完成后再导入' },
  IMPORT_FILE_INVALID: { status: 400, message: '请上传 XLSX 或 CSV 格式的住户文件' },
  AREA_CODE_EXISTS: { status: 409, message: '该片区编码已存在' },
  CANNOT_DISABLE_SELF: { status: 409, message: '不能停用自己的账号' },
  CANNOT_DROP_OWN_ADMIN: { status: 409, message: '不能取消自己的管理员角色，请由其他管理员操作' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

/** One invalid field: path like `body.accountNo`, and a Chinese message. */
export interface FieldIssue {
  field: string;
  message: string;
  /** extra facts for the form, e.g. { needsConfirm: true } for a tax id the user may confirm */
  params?: Record<string, unknown>;
}

/** The one JSON error shape every endpoint answers with. */
export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    details?: unknown;
    requestId?: string;
  };
}

export function errorStatus(code: ErrorCode): number {
  return ERRORS[code].status;
}

export function errorMessage(code: ErrorCode): string {
  return ERRORS[code].message;
}
