/**
 * Issue 16: rules from the seeds (../shared/seeds/, README.md) and domain-rules.md, each test
 * naming the seed it comes from.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  rulingRefund,
  checkTaxId,
  CompanyRules,
  COMPANY_SETTING_LABEL,
  InvoiceTitleInput,
  maskPhone,
  MEASUREMENT_CHECK_LABEL,
  MEASUREMENT_PROTOCOL,
  MEASUREMENT_PROTOCOL_REQUIRED,
  MEASUREMENT_PROTOCOL_TEXT,
  normalizeTaxId,
  quoteBill,
  REPAIR_CATEGORY_CLOCKS,
  REPAIR_PRICE_LIST,
  SeasonInput,
  slotProblem,
} from './index';

const season = { discountBp: 200, discountUntil: '2026-11-30', dueDate: '2026-12-31', lateFeeDailyBp: 10, lateFeeCapBp: 1000 };
const lines = [{ label: '供热费', detail: '', amountFen: 300_000 }];

describe('discount and late fee on the unpaid part (issue 16 item 5; domain-rules.md §3 late payment)', () => {
  it('a partly paid bill gets the early-payment discount on what is still unpaid, not on the whole charge', () => {
    // a base fee of ¥900 paid, re-opened for the full ¥3,000 after a resume: ¥2,100 unpaid
    const q = quoteBill({ chargeFen: 300_000, paidFen: 90_000, lines }, season, '2026-11-20');
    expect(q.unpaidFen).toBe(210_000);
    expect(q.discountFen).toBe(4_200); // 2% of 2,100, not of 3,000 (6,000)
    expect(q.dueFen).toBe(210_000 - 4_200);
    expect(q.lines.reduce((s, l) => s + l.amountFen, 0)).toBe(q.dueFen);
    expect(q.lines.find((l) => l.label === '早缴优惠')!.detail).toContain('未缴部分¥2,100.00');
  });

  it('the late fee of a partly paid bill runs on the unpaid part; an earlier payment’s discount counts as covered', () => {
    const q = quoteBill({ chargeFen: 300_000, paidFen: 88_200, discountFen: 1_800, lines }, season, '2027-01-10');
    expect(q.unpaidFen).toBe(210_000);
    expect(q.lateFeeFen).toBe(2_100); // 10 days × 1‰ of 2,100
    expect(q.dueFen).toBe(212_100);
    expect(q.lines.reduce((s, l) => s + l.amountFen, 0)).toBe(q.dueFen);
  });

  it('the late-fee line states the rate and the days, and the 10% cap when the cap applies', () => {
    const early = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-01-10');
    expect(early.lines.at(-1)).toEqual({ label: '滞纳金', detail: '逾期10天 × 每日1‰（累计不超过10%）', amountFen: 3_000 });
    const capped = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-12-31');
    expect(capped.lateFeeFen).toBe(30_000);
    expect(capped.lines.at(-1)!.detail).toBe('逾期365天，每日1‰，累计超过10%上限，按上限10%收取');
  });

  it('no late fee accrues while the heat is off (报停/封阀), and the line says why', () => {
    const q = quoteBill({ chargeFen: 300_000, paidFen: 0, lines }, season, '2027-12-31', { heatOff: true });
    expect(q.lateFeeFen).toBe(0);
    expect(q.dueFen).toBe(300_000);
    expect(q.lines.at(-1)).toMatchObject({ label: '滞纳金', amountFen: 0, detail: expect.stringContaining('停热') });
    expect(CompanyRules.parse({}).billing.noLateFeeWhileHeatOff).toBe(true);
  });

  it('for any charge, payment and day: due = unpaid − discount + late fee, never negative, and the lines add up', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 0, max: 800 }),
        fc.boolean(),
        (charge, paid, day, heatOff) => {
          const today = new Date(Date.UTC(2026, 9, 1) + day * 86_400_000).toISOString().slice(0, 10);
          const q = quoteBill(
            { chargeFen: charge, paidFen: Math.min(paid, charge), lines: [{ label: '供热费', detail: '', amountFen: charge }] },
            season,
            today,
            { heatOff },
          );
          expect(q.unpaidFen).toBe(charge - Math.min(paid, charge));
          expect(q.lateFeeFen).toBeLessThanOrEqual(Math.floor((q.unpaidFen * 1000 + 5000) / 10000));
          expect(q.dueFen).toBe(q.unpaidFen - q.discountFen + q.lateFeeFen);
          expect(q.lines.reduce((s, l) => s + l.amountFen, 0)).toBe(q.dueFen);
          if (heatOff) expect(q.lateFeeFen).toBe(0);
        },
      ),
    );
  });
});

describe('the base-fee ratio has one source per season (issue 16 item 2; domain-rules.md §3 报停 basePct)', () => {
  it('a season may be created without its own ratio (the company setting fills it); when given it is validated', () => {
    const input = {
      code: '2027-2028',
      startDate: '2027-11-01',
      endDate: '2028-04-01',
      dueDate: '2027-12-31',
      tariffs: { residential: 2700, commercial: 3800 },
    };
    expect(SeasonInput.safeParse(input).success).toBe(true);
    expect(SeasonInput.parse(input).baseFeeRatioBp).toBeUndefined();
    expect(SeasonInput.safeParse({ ...input, baseFeeRatioBp: 12000 }).success).toBe(false);
  });
});

describe('company settings with the seeds’ numbers as defaults (issue 16 item 11)', () => {
  it('defaults: escalation 60 min, watch list 10 households / 2 tickets, re-measure below 20 °C after 30 min (Heihe 004), booking 7 days, unsatisfied below 3 stars, the price list (Zibo 001, Wuhai 002)', () => {
    const r = CompanyRules.parse({});
    expect(r.repairs).toEqual({
      categories: REPAIR_CATEGORY_CLOCKS.map((c) => ({ ...c })),
      dispatchMode: 'auto',
      grabTimeoutMinutes: 5,
      urgeIntervalMinutes: 30,
      appointmentChanges: 1,
      appointmentNoticeMinutes: 60,
      escalateToHeadMinutes: 60,
      bookingHorizonDays: 7,
      unsatisfiedBelowStars: 3,
      watchList: { buildingComplaintHouseholds: 10, repeatedLowTempTickets: 2, remeasureBelowC: 20, remeasureAfterMinutes: 30 },
      priceList: REPAIR_PRICE_LIST.map((p) => ({ ...p })),
    });
    expect(r.serviceChange.resumeRequiresArrearsCleared).toBe(true);
    for (const k of [
      'escalateToHeadMinutes',
      'bookingHorizonDays',
      'unsatisfiedBelowStars',
      'watchList.buildingComplaintHouseholds',
      'watchList.repeatedLowTempTickets',
      'watchList.remeasureBelowC',
      'watchList.remeasureAfterMinutes',
      'priceList',
      'categories',
      'dispatchMode',
      'grabTimeoutMinutes',
      'urgeIntervalMinutes',
      'appointmentChanges',
      'appointmentNoticeMinutes',
    ])
      expect(COMPANY_SETTING_LABEL[`rules.repairs.${k}`], k).toMatch(/[\u4e00-\u9fa5]/);
  });

  it('repair clocks (issue 16 item 8): Harbin 003 dispatch 10 min, Zibo 001 on site 30 min, Changchun 000 leak 25 min, Heihe 004 flooding and leaks are emergencies, contact 30 min, report 2 h; callbacks retried', () => {
    const r = CompanyRules.parse({});
    const by = Object.fromEntries(r.repairs.categories.map((c) => [c.category, c]));
    expect(by.leak).toEqual({ category: 'leak', emergency: true, dispatchMinutes: 10, onSiteMinutes: 25 });
    expect(by.flooding).toEqual({ category: 'flooding', emergency: true, dispatchMinutes: 10, onSiteMinutes: 60 });
    for (const c of ['low_temp', 'no_heat', 'valve', 'other']) expect(by[c]).toMatchObject({ emergency: false, dispatchMinutes: 10, onSiteMinutes: 30 });
    expect(r.sla).toMatchObject({
      routineContactMinutes: 30,
      emergencyReportMinutes: 120,
      registerMinutes: 5,
      callbackRetryMinutes: 120,
      callbackMaxAttempts: 3,
    });
    for (const k of ['callbackRetryMinutes', 'callbackMaxAttempts']) expect(COMPANY_SETTING_LABEL[`rules.sla.${k}`], k).toMatch(/[\u4e00-\u9fa5]/);
    // a category listed twice is refused
    expect(CompanyRules.safeParse({ repairs: { categories: [by.leak, by.leak] } }).success).toBe(false);
  });

  it('the booking horizon is the setting’s (default 7 days)', () => {
    const now = new Date('2026-11-20T02:00:00Z'); // 10:00 China time
    const in5days = [new Date('2026-11-25T01:00:00Z'), new Date('2026-11-25T03:00:00Z')] as const;
    const sla = CompanyRules.parse({}).sla;
    expect(slotProblem(in5days[0], in5days[1], now, sla, CompanyRules.parse({}).repairs.bookingHorizonDays)).toBeNull();
    expect(slotProblem(in5days[0], in5days[1], now, sla, 3)).toBe('只能预约3天内的时间');
  });

  it('refuses impossible values with Chinese messages', () => {
    const bad = CompanyRules.safeParse({
      repairs: {
        escalateToHeadMinutes: 0,
        bookingHorizonDays: 0,
        unsatisfiedBelowStars: 6,
        watchList: { buildingComplaintHouseholds: 0, repeatedLowTempTickets: 1.5 },
        priceList: [
          { code: 'visit', name: '上门', priceFen: 0 },
          { code: 'visit', name: '上门', priceFen: 100 },
        ],
      },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining([
        'repairs.escalateToHeadMinutes',
        'repairs.bookingHorizonDays',
        'repairs.unsatisfiedBelowStars',
        'repairs.watchList.buildingComplaintHouseholds',
        'repairs.watchList.repeatedLowTempTickets',
        'repairs.priceList.0.priceFen',
        'repairs.priceList.1.code',
      ]),
    );
    for (const i of bad.error!.issues) expect(i.message, i.path.join('.')).toMatch(/[\u4e00-\u9fa5]/);
  });
});

describe('tax ids and phone masks (issue 16 item 12; domain-rules.md §1, §4)', () => {
  it('a full-width tax id is normalised (NFKC) and accepted', () => {
    expect(normalizeTaxId('９１３５０１００Ｍ０００１００Ｙ４３')).toBe('91350100M000100Y43');
    expect(normalizeTaxId('９１４４０３００１０００１６８６ＸＡ')).toBe('9144030010001686XA');
    expect(checkTaxId('９１３５０１００Ｍ０００１００Ｙ４３')).toEqual({ ok: true, kind: 'uscc', checksumOk: true });
    const title = InvoiceTitleInput.parse({ kind: 'company', name: '招商银行股份有限公司', taxId: '９１４４０３００１０００１６８６ＸＡ' });
    expect(title.taxId).toBe('9144030010001686XA');
  });

  it('a character that is not a digit or a letter is named as such, not as a "letter"', () => {
    const r = checkTaxId('91350100M000100Y4中');
    expect(r).toEqual({ ok: false, message: '纳税人识别号只能包含数字和大写字母，不能包含“中”' });
    expect(checkTaxId('91350100M000100Y4O')).toMatchObject({ ok: false, message: expect.stringContaining('不使用 I、O、S、V、Z') });
  });

  it('a landline keeps its area code and shows the last 4 digits', () => {
    expect(maskPhone('0431-88886666')).toBe('0431-****6666');
    expect(maskPhone('043188886666')).toBe('0431-****6666');
    expect(maskPhone('010-12345678')).toBe('010-****5678');
    expect(maskPhone('13812341234')).toBe('138****1234');
    expect(maskPhone('+86 138 1234 1234')).toBe('138****1234');
  });
});

describe('the measurement protocol in one place (issue 16 item 10; Changchun 000 rule 4)', () => {
  it('30 minutes closed, the room’s centre, 1.4 m, 5 minutes stable: the resident’s text, the checks and the server’s message agree', () => {
    expect(MEASUREMENT_PROTOCOL).toEqual({ closedMinutes: 30, position: '房间中央', heightM: 1.4, stableMinutes: 5 });
    for (const text of [MEASUREMENT_PROTOCOL_TEXT, MEASUREMENT_PROTOCOL_REQUIRED, Object.values(MEASUREMENT_CHECK_LABEL).join('')]) {
      expect(text).toContain('30分钟');
      expect(text).toContain('1.4米');
      expect(text).toContain('5分钟');
      expect(text).not.toMatch(/1小时|1米/);
    }
  });
});

describe('Changchun 000: a ruled refund is the paid fee × the days below the standard ÷ the season’s days, capped', () => {
  const season = { start: new Date('2026-10-31T16:00:00Z'), end: new Date('2027-03-31T16:00:00Z') }; // Nov 1 → Apr 1, 151 days
  it('counts whole China days from the measurement to the end of the shortfall', () => {
    const r = rulingRefund({
      paidFen: 302_000,
      refundedFen: 0,
      belowFrom: new Date('2026-11-25T08:40:00Z'),
      belowUntil: new Date('2026-12-01T08:45:00Z'),
      season,
      percent: 100,
    });
    expect(r).toMatchObject({ days: 6, seasonDays: 151, refundFen: Math.floor((302_000 * 6) / 151) });
    expect(r.text).toBe('¥3020.00 × 不达标6天 ÷ 采暖季151天 = ¥120.00');
  });
  it('to the season’s end when nothing passed later; the company’s percentage; never more than is refundable', () => {
    const full = rulingRefund({ paidFen: 151_00, refundedFen: 0, belowFrom: new Date('2026-10-31T20:00:00Z'), belowUntil: season.end, season, percent: 50 });
    expect(full).toMatchObject({ days: 151, refundFen: 7550 });
    const capped = rulingRefund({
      paidFen: 151_00,
      refundedFen: 15_000,
      belowFrom: new Date('2026-10-31T20:00:00Z'),
      belowUntil: season.end,
      season,
      percent: 100,
    });
    expect(capped.refundFen).toBe(100);
    expect(capped.text).toContain('以可退金额¥1.00为限');
  });
});
