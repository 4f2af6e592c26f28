import { z } from 'zod';

const MonthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, '格式应为 MM-DD');
const HourMinute = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, '格式应为 HH:mm');

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
  /** base fee of a stopped household, in basis points of the full fee (3000 = 30%) */
  baseFeeRatioBp: z.number().int().min(0).max(10000).default(3000),
  sla: z
    .object({
      registerMinutes: z.number().int().positive().default(5),
      routineContactMinutes: z.number().int().positive().default(30),
      routineDoneMinutes: z.number().int().positive().default(48 * 60),
      emergencyOnSiteMinutes: z.number().int().positive().default(60),
      emergencyReportMinutes: z.number().int().positive().default(120),
      callbackMinutes: z.number().int().positive().default(24 * 60),
      quietStart: HourMinute.default('20:00'),
      quietEnd: HourMinute.default('08:00'),
    })
    .prefault({}),
  measurementWindows: z
    .array(z.object({ start: HourMinute, end: HourMinute }))
    .default([
      { start: '06:00', end: '08:00' },
      { start: '16:00', end: '20:00' },
    ]),
  minTemperatureC: z.number().default(18),
  promisedTemperatureC: z.number().default(20),
  retention: z.object({ photoDays: z.number().int().positive().default(3 * 365) }).prefault({}),
  /** e-invoices: residential heat is VAT-exempt in the 三北 regions (财政部 税务总局公告2023年第56号) */
  invoice: z
    .object({
      residentialExempt: z.boolean().default(true),
      commercialRateBp: z.number().int().min(0).max(1700).default(900),
      goodsName: z.string().min(1).max(40).default('供热费'),
      goodsCode: z.string().regex(/^\d{19}$/, '税收分类编码应为19位数字').default('1100102010100000000'),
      sellerTaxId: z.string().default('339902999999789113'),
      /** request an invoice automatically after payment when the payer has a default title */
      autoIssue: z.boolean().default(true),
    })
    .prefault({}),
  /** stop/resume (报停/复供): limits on repeated changes and the documents an application needs */
  serviceChange: z
    .object({
      /** approved changes per account and season (1 = a stop OR a resume, not both) */
      maxChangesPerSeason: z.number().int().min(1).default(1),
      /** once a stop has been carried out for a season, no resume for that same season */
      noResumeAfterStopInSameSeason: z.boolean().default(true),
      /** document kinds every application must carry, e.g. 'id_photo', 'property_certificate' */
      requiredDocuments: z.array(z.string().min(1).max(32)).default(['id_photo']),
      /** what the crew does to the valve of a stopped household: close it, or close and seal it */
      stopValveAction: z.enum(['close', 'seal']).default('close'),
    })
    .prefault({}),
});
export type CompanyRules = z.infer<typeof CompanyRules>;

export const CompanyInfo = z.object({ name: z.string(), hotline: z.string() });
export type CompanyInfo = z.infer<typeof CompanyInfo>;
