import { z } from 'zod';
import { dateInYear, monthDay } from './inputs';
// the seeds' price list is the default (repairs.ts imports only types from here: no cycle)
import { REPAIR_CATEGORIES, REPAIR_CATEGORY_CLOCKS, REPAIR_PRICE_LIST } from './repairs';

/** a day of the year that exists in every year (02-30, 04-31 and 02-29 are refused) */
const MonthDay = monthDay();
/** SLA clocks: 1 minute .. 30 days */
const Minutes = z
  .number()
  .int()
  .min(1)
  .max(30 * 24 * 60);
const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '格式应为 HH:mm');

/** One priced item of resident-side repair work; price in fen (shown to admins in 元). */
export const RepairPriceItem = z.object({
  code: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, '项目编号无效'),
  name: z.string().trim().min(1, '请填写项目名称').max(30, '项目名称不超过30字'),
  priceFen: z.number('请填写价格').int('价格最多两位小数').min(1, '价格必须大于0').max(1_000_000, '价格不超过10000元'),
});
export type RepairPriceItem = z.infer<typeof RepairPriceItem>;

/** One category's clock: emergency or routine, minutes to dispatch and to be on site. */
export const RepairCategoryClock = z.object({
  category: z.enum(REPAIR_CATEGORIES, '报修类型无效'),
  emergency: z.boolean('请选择是否紧急'),
  dispatchMinutes: Minutes,
  onSiteMinutes: Minutes,
});
export type RepairCategoryClock = z.infer<typeof RepairCategoryClock>;

/**
 * A company's business rules: data, not code. Later features read their numbers from here
 * (deadlines, base-fee ratio, SLA minutes, measurement windows, retention).
 */
export const CompanyRules = z.object({
  /** heating season, e.g. 11-01 .. 04-01 (end in the next year) */
  seasonStart: MonthDay.default('11-01'),
  seasonEnd: MonthDay.default('04-01'),
  /** stop/resume applications for a season close on this day of the season's start year, 23:59:59 China time */
  changeDeadline: MonthDay.default('09-20'),
  /**
   * base fee of a stopped household, in basis points of the full fee (3000 = 30%): the DEFAULT
   * copied into a season created without its own ratio. Bills are priced by their season's ratio
   * (one source of truth per season); changing this setting never re-prices an existing season.
   */
  baseFeeRatioBp: z.number('请填写比例').int('比例最多保留两位小数').min(0, '比例不能小于0%').max(10000, '比例不能超过100%').default(3000),
  /** bills: which bill may be paid when, and the late fee while the heat is off */
  billing: z
    .object({
      /**
       * no late fee accrues on the bill of a household whose heat is off (报停 or 封阀): Tianjin's
       * rule, domain-rules.md §3 "if heat is cut off ... the penalty stops"
       */
      noLateFeeWhileHeatOff: z.boolean().default(true),
    })
    .prefault({}),
  /**
   * Repair clocks. They run around the clock (Heihe 004: hotline 24 h); the quiet hours apply only
   * to callbacks (Zibo 001: callback within 24 h except 20:00–08:00) and to booked visits.
   * Dispatch and on-site minutes per category live in repairs.categories.
   */
  sla: z
    .object({
      /** Heihe 004: a request is registered within 5 minutes; an emergency is called back by then */
      registerMinutes: Minutes.default(5),
      /** Heihe 004 / Zibo 001: the resident is contacted within 30 minutes */
      routineContactMinutes: Minutes.default(30),
      /** Heihe 004: a routine repair is done within 48 hours */
      routineDoneMinutes: Minutes.default(48 * 60),
      /** Heihe 004: a resident-flagged emergency of a routine category: crew on site within 1 hour */
      emergencyOnSiteMinutes: Minutes.default(60),
      /** Heihe 004: the result is reported within 2 hours of finishing an emergency */
      emergencyReportMinutes: Minutes.default(120),
      callbackMinutes: Minutes.default(24 * 60),
      /** an unanswered callback (未接通) is tried again this much later (outside quiet hours) */
      callbackRetryMinutes: Minutes.default(120),
      /** after this many unanswered calls the callback is closed as unreachable */
      callbackMaxAttempts: z.number('请填写次数').int('次数应为整数').min(1, '至少1次').max(10, '不超过10次').default(3),
      quietStart: HourMinute.default('20:00'),
      quietEnd: HourMinute.default('08:00'),
    })
    .prefault({}),
  measurementWindows: z
    .array(z.object({ start: HourMinute, end: HourMinute }))
    .max(24)
    .default([
      { start: '06:00', end: '08:00' },
      { start: '16:00', end: '20:00' },
    ]),
  minTemperatureC: z.number().min(10).max(30).default(18),
  promisedTemperatureC: z.number().min(10).max(30).default(20),
  retention: z
    .object({
      /** repair, chat, valve and measurement photos: evidence, 3 years */
      photoDays: z
        .number()
        .int()
        .min(1)
        .max(20 * 365)
        .default(3 * 365),
      /** ID documents of stop/resume applications: only as long as the review needs (PIPL art. 19) */
      documentDays: z
        .number()
        .int()
        .min(1)
        .max(20 * 365)
        .default(180),
    })
    .prefault({}),
  /** e-invoices: residential heat is VAT-exempt in the 三北 regions (财政部 税务总局公告2023年第56号) */
  invoice: z
    .object({
      residentialExempt: z.boolean().default(true),
      commercialRateBp: z.number().int().min(0).max(1700).default(900),
      goodsName: z.string().min(1).max(40).default('供热费'),
      goodsCode: z
        .string()
        .regex(/^\d{19}$/, '税收分类编码应为19位数字')
        .default('1100102010100000000'),
      sellerTaxId: z.string().default('339902999999789113'),
      /** request an invoice automatically after payment when the payer has a default title */
      autoIssue: z.boolean().default(true),
    })
    .prefault({}),
  /** stop/resume (报停/复供): limits on repeated changes and the documents an application needs */
  serviceChange: z
    .object({
      /** approved changes per account and season (1 = a stop OR a resume, not both) */
      maxChangesPerSeason: z.number().int().min(1).max(10).default(1),
      /** once a stop has been carried out for a season, no resume for that same season */
      noResumeAfterStopInSameSeason: z.boolean().default(true),
      /** document kinds every application must carry, e.g. 'id_photo', 'property_certificate' */
      requiredDocuments: z.array(z.string().min(1).max(32)).max(10).default(['id_photo']),
      /** what the crew does to the valve of a stopped household: close it, or close and seal it */
      stopValveAction: z.enum(['close', 'seal']).default('close'),
      /** a resume (复供) needs the account's earlier seasons paid, like a stop (报停) always does */
      resumeRequiresArrearsCleared: z.boolean().default(true),
    })
    .prefault({}),
  /** three-party measurement refunds (Changchun 000: ruling, then paid within one day after the season) */
  measurementRefund: z
    .object({
      /** the share of the days below the standard refunded, % of the daily fee */
      percent: z.number('请填写比例').int('比例应为整数').min(1, '至少1%').max(100, '不超过100%').default(100),
      /** finance pays a ruled refund only after the season ends (the seeds), or at once when false */
      payAfterSeason: z.boolean('请选择是或否').default(true),
    })
    .prefault({}),
  /** complaints (投诉): Changchun 000 closes in 24 h, 72 h with the resident's agreement, callback in 24 h; Harbin 003: 24 h, at most 48 h */
  complaints: z
    .object({
      closeHours: z
        .number('请填写小时数')
        .int('小时数应为整数')
        .min(1, '至少1小时')
        .max(30 * 24, '不超过720小时')
        .default(24),
      agreedCloseHours: z
        .number('请填写小时数')
        .int('小时数应为整数')
        .min(1, '至少1小时')
        .max(30 * 24, '不超过720小时')
        .default(72),
      callbackHours: z
        .number('请填写小时数')
        .int('小时数应为整数')
        .min(1, '至少1小时')
        .max(30 * 24, '不超过720小时')
        .default(24),
    })
    .refine((c) => c.agreedCloseHours >= c.closeHours, { path: ['agreedCloseHours'], message: '经住户同意的办结时限不能短于一般时限' })
    .prefault({}),
  /** repair numbers the seeds give and companies differ on */
  repairs: z
    .object({
      /**
       * per category: emergency or routine, dispatch and on-site minutes (Harbin 003: the order
       * reaches the worker in 10 min; Zibo 001: on site in 30 min; Changchun 000: a leak in 25 min;
       * Heihe 004: indoor flooding and pipe leaks are emergencies, on site within 1 h)
       */
      categories: z
        .array(RepairCategoryClock)
        .min(1, '至少保留一个报修类型')
        .superRefine((items, ctx) => {
          const seen = new Set<string>();
          items.forEach((it, i) => {
            if (seen.has(it.category)) ctx.addIssue({ code: 'custom', path: [i, 'category'], message: '报修类型重复' });
            seen.add(it.category);
          });
        })
        .default(() => REPAIR_CATEGORY_CLOCKS.map((c) => ({ ...c }))),
      /** auto: the least-loaded butler/crew member; grab: a pool the area's staff grab from, auto-assigned after grabTimeoutMinutes (Harbin 003) */
      dispatchMode: z.enum(['auto', 'grab'], '请选择派单方式').default('auto'),
      grabTimeoutMinutes: Minutes.default(5),
      /** a resident may urge (催单) an overdue ticket at most once per this many minutes */
      urgeIntervalMinutes: Minutes.default(30),
      /** Zibo 001: the resident may change the appointment this many times, at least noticeMinutes before it */
      appointmentChanges: z.number('请填写次数').int('次数应为整数').min(0, '不能小于0').max(5, '不超过5次').default(1),
      appointmentNoticeMinutes: Minutes.default(60),
      /** an overdue ticket still overdue this long after reaching the supervisor goes to the department head (Heihe 004: unsatisfied → department head) */
      escalateToHeadMinutes: Minutes.default(60),
      /** a resident may book a visit at most this many days ahead */
      bookingHorizonDays: z.number('请填写天数').int('天数应为整数').min(1, '至少1天').max(60, '不超过60天').default(7),
      /** a rating below this many stars is "unsatisfied": the ticket reopens and escalates (Heihe 004) */
      unsatisfiedBelowStars: z.number('请填写星级').int('星级应为整数').min(2, '至少为2星').max(5, '不超过5星').default(3),
      /** the low-temperature watch list (Heihe 004: 低温户台账, 隐患台账) */
      watchList: z
        .object({
          /** a building with this many complaining households in a season goes on the hazard ledger */
          buildingComplaintHouseholds: z.number('请填写户数').int('户数应为整数').min(1, '至少1户').max(1000, '不超过1000户').default(10),
          /** a household with this many 室温不达标 tickets in a season is watched */
          repeatedLowTempTickets: z.number('请填写次数').int('次数应为整数').min(1, '至少1次').max(50, '不超过50次').default(2),
          /** a low-temperature repair fixed while the household read below this is re-measured (Heihe 004: < 20 °C) */
          remeasureBelowC: z.number('请填写温度').min(10, '不低于10℃').max(30, '不高于30℃').default(20),
          /** … this many minutes after the fix (Heihe 004: 30 min) */
          remeasureAfterMinutes: z
            .number('请填写分钟数')
            .int('分钟数应为整数')
            .min(5, '至少5分钟')
            .max(24 * 60, '不超过1440分钟')
            .default(30),
        })
        .prefault({}),
      /** priced resident-side work (Zibo 001: paid services with the price told first; Wuhai 002: priced value-added repairs) */
      priceList: z
        .array(RepairPriceItem)
        .min(1, '价目表至少保留一项')
        .max(50, '价目表不超过50项')
        .superRefine((items, ctx) => {
          const seen = new Set<string>();
          items.forEach((it, i) => {
            if (seen.has(it.code)) ctx.addIssue({ code: 'custom', path: [i, 'code'], message: '项目编号重复' });
            seen.add(it.code);
          });
          const names = new Set<string>();
          items.forEach((it, i) => {
            if (names.has(it.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: '项目名称重复' });
            names.add(it.name);
          });
        })
        .default(() => REPAIR_PRICE_LIST.map((p) => ({ ...p }))),
    })
    .prefault({}),
});
export type CompanyRules = z.infer<typeof CompanyRules>;

const MONTH_DAY_SETTINGS = ['seasonStart', 'seasonEnd', 'changeDeadline'] as const;

/**
 * The rules as stored, with every default filled. Rules saved before the calendar settings were
 * checked as real dates may hold a day the month lacks ("02-30", "02-29"): read as the month's
 * last day in a common year, so an old row never makes every page fail.
 */
export function parseStoredRules(raw: unknown): CompanyRules {
  const r: Record<string, unknown> = raw && typeof raw === 'object' ? { ...(raw as Record<string, unknown>) } : {};
  for (const k of MONTH_DAY_SETTINGS) {
    const v = r[k];
    if (typeof v === 'string' && /^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/.test(v)) r[k] = dateInYear(2027, v).slice(5);
  }
  return CompanyRules.parse(r);
}

/**
 * Chinese names of the company settings by field path (as in validation errors and the audit log's
 * before/after): `rules.baseFeeRatioBp` → 报停基础热费比例. Add a line here with every new rule.
 */
export const COMPANY_SETTING_LABEL: Record<string, string> = {
  name: '公司名称',
  hotline: '服务热线',
  rules: '公司规则',
  'rules.seasonStart': '采暖季开始日期',
  'rules.seasonEnd': '采暖季结束日期',
  'rules.changeDeadline': '报停/复供申请截止日',
  'rules.baseFeeRatioBp': '报停基础热费比例',
  'rules.sla': '维修时限',
  'rules.sla.registerMinutes': '维修时限：登记（分钟）',
  'rules.sla.routineContactMinutes': '维修时限：一般报修联系住户（分钟）',
  'rules.sla.routineDoneMinutes': '维修时限：一般报修完成（分钟）',
  'rules.sla.emergencyOnSiteMinutes': '维修时限：住户标记紧急的报修到场（分钟）',
  'rules.sla.emergencyReportMinutes': '维修时限：紧急报修报告结果（分钟）',
  'rules.sla.callbackMinutes': '维修时限：回访（分钟）',
  'rules.sla.callbackRetryMinutes': '回访未接通后再次回访（分钟）',
  'rules.sla.callbackMaxAttempts': '回访最多拨打次数',
  'rules.sla.quietStart': '免打扰开始时间',
  'rules.sla.quietEnd': '免打扰结束时间',
  'rules.measurementWindows': '允许预约测温的时段',
  'rules.minTemperatureC': '最低室温（℃）',
  'rules.promisedTemperatureC': '承诺室温（℃）',
  'rules.retention': '资料保存期限',
  'rules.retention.photoDays': '照片保存天数',
  'rules.retention.documentDays': '报停/复供证件照片保存天数',
  'rules.invoice': '电子发票',
  'rules.invoice.residentialExempt': '居民用热免征增值税',
  'rules.invoice.commercialRateBp': '非居民用热税率（基点）',
  'rules.invoice.goodsName': '开票项目名称',
  'rules.invoice.goodsCode': '税收分类编码',
  'rules.invoice.sellerTaxId': '销售方税号',
  'rules.invoice.autoIssue': '缴费后按默认抬头自动开票',
  'rules.serviceChange': '报停/复供规则',
  'rules.serviceChange.maxChangesPerSeason': '每户每采暖季最多变更次数',
  'rules.serviceChange.noResumeAfterStopInSameSeason': '当季已报停的不能再复供',
  'rules.serviceChange.requiredDocuments': '申请必须上传的材料',
  'rules.serviceChange.stopValveAction': '报停时阀门处理',
  'rules.serviceChange.resumeRequiresArrearsCleared': '复供前须缴清往年欠费',
  'rules.billing': '账单',
  'rules.billing.noLateFeeWhileHeatOff': '停热（报停、封阀）期间不计滞纳金',
  'rules.measurementRefund': '测温退费规则',
  'rules.measurementRefund.percent': '按不达标天数退还热费的比例（%）',
  'rules.measurementRefund.payAfterSeason': '测温退费在采暖季结束后统一支付',
  'rules.repairs': '维修规则',
  'rules.repairs.categories': '各报修类型的时限',
  'rules.repairs.dispatchMode': '派单方式',
  'rules.repairs.grabTimeoutMinutes': '抢单超时转自动派单（分钟）',
  'rules.repairs.urgeIntervalMinutes': '住户催单间隔（分钟）',
  'rules.repairs.appointmentChanges': '住户可改约次数',
  'rules.repairs.appointmentNoticeMinutes': '改约须提前（分钟）',
  'rules.repairs.escalateToHeadMinutes': '超时工单升级到部门负责人（分钟）',
  'rules.repairs.bookingHorizonDays': '最多可预约几天内上门',
  'rules.repairs.unsatisfiedBelowStars': '低于几星视为不满意',
  'rules.repairs.watchList': '低温关注名单',
  'rules.repairs.watchList.buildingComplaintHouseholds': '楼栋投诉户数达到几户列入隐患台账',
  'rules.repairs.watchList.repeatedLowTempTickets': '一户室温不达标报修达到几次列入关注',
  'rules.repairs.watchList.remeasureBelowC': '低温报修修复时室温低于几度需复测（℃）',
  'rules.repairs.watchList.remeasureAfterMinutes': '修复后几分钟复测室温',
  'rules.repairs.priceList': '有偿维修价目表',
  'rules.complaints': '投诉规则',
  'rules.complaints.closeHours': '投诉办结时限（小时）',
  'rules.complaints.agreedCloseHours': '经住户同意延长后的投诉办结时限（小时）',
  'rules.complaints.callbackHours': '投诉处理后回访时限（小时）',
};

export const CompanyInfo = z.object({ name: z.string(), hotline: z.string() });
export type CompanyInfo = z.infer<typeof CompanyInfo>;
