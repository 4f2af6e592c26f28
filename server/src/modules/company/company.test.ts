/**
 * Company settings for the numbers the seeds give and companies differ on (issue 16 item 11):
 * saved through the admin settings, validated, exposed by CompanyService.rules().
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { REPAIR_PRICE_LIST } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';

const t = testAppForFile();
let admin: string;
beforeAll(async () => {
  admin = await t.loginStaff('admin');
});

describe('repair numbers as company settings (Heihe 004, Zibo 001, Wuhai 002)', () => {
  it('defaults to the seeds’ numbers: 60 min to the department head, 7 days of booking, under 3 stars unsatisfied, 10 households / 2 tickets, the price list', async () => {
    const cur = await t.call('GET', '/api/v1/admin/settings', { token: admin });
    expect(cur.body.rules.repairs).toMatchObject({
      escalateToHeadMinutes: 60,
      bookingHorizonDays: 7,
      unsatisfiedBelowStars: 3,
      watchList: { buildingComplaintHouseholds: 10, repeatedLowTempTickets: 2 },
      priceList: REPAIR_PRICE_LIST.map((p) => ({ ...p })),
    });
    expect(cur.body.rules.serviceChange.resumeRequiresArrearsCleared).toBe(true);
    expect(cur.body.rules.billing.noLateFeeWhileHeatOff).toBe(true);
  });

  it('saves a company’s own numbers, refuses impossible ones field by field in Chinese, and rules() gives what was saved', async () => {
    const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
    const bad = await t.call('PUT', '/api/v1/admin/settings', {
      token: admin,
      body: {
        ...cur,
        rules: {
          ...cur.rules,
          repairs: { ...cur.rules.repairs, bookingHorizonDays: 0, unsatisfiedBelowStars: 9, priceList: [{ code: 'visit', name: '上门服务费', priceFen: -1 }] },
        },
      },
    });
    expect(bad.status).toBe(400);
    const fields = bad.body.error.details.fields;
    expect(fields.map((f: any) => f.field).sort()).toEqual([
      'rules.repairs.bookingHorizonDays',
      'rules.repairs.priceList.0.priceFen',
      'rules.repairs.unsatisfiedBelowStars',
    ]);
    for (const f of fields) expect(f.message).toMatch(/[\u4e00-\u9fa5]/);

    const mine = {
      escalateToHeadMinutes: 25,
      bookingHorizonDays: 3,
      unsatisfiedBelowStars: 4,
      watchList: { buildingComplaintHouseholds: 8, repeatedLowTempTickets: 3 },
      priceList: [{ code: 'visit', name: '上门服务费', priceFen: 2500 }],
    };
    const ok = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: { ...cur, rules: { ...cur.rules, repairs: mine } } });
    expect(ok.status).toBe(200);
    expect((await t.services.company.rules()).repairs).toMatchObject(mine);
    const log = await t.call('GET', '/api/v1/admin/audit?action=settings.update', { token: admin });
    expect(log.body.items[0].after.rules.repairs.escalateToHeadMinutes).toBe(25);
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: cur });
  });
});
