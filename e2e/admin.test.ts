import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HOUSEHOLD_COLUMNS, arrearsHeader } from '@heat-butler/shared';
import { fill, open, shot, startE2E, type E2E, staffWithPassword } from './support/browser';
import { Account } from '../server/src/modules/accounts/entities';
import { DEMO } from '../server/src/demo/seed';
import { householdRow } from '../server/src/test-support/household-row';

let e: E2E;
let page: Page;

const HEADERS = [...HOUSEHOLD_COLUMNS.map((c) => c.header), arrearsHeader(DEMO.seasons[0]!.code)];

/** a row of a new building (88号楼 of area A01), with overrides by column key */
function row(i: number, over: Partial<Record<string, string>> = {}): string {
  return householdRow(
    {
      accountNo: `8801${String(i).padStart(4, '0')}`,
      areaCode: 'A01',
      buildingName: '88号楼',
      buildingAddress: '长春市朝阳区浏览器路8号测试家园',
      unitNo: '1',
      roomNo: String(300 + i),
      ownerName: `网页户${i}`,
      contactPhone: '13912345678',
      heatedArea: '76.20',
      use: '居民',
      status: '正常供热',
      arrears: i === 1 ? '880.50' : '',
    },
    over,
  ).join(',');
}
const csv = (rows: string[]) => Buffer.from([HEADERS.join(','), ...rows].join('\r\n'), 'utf8');

const job = () => page.locator('[data-import-job]');

/** Give the hidden <input type=file> a CSV, as the admin choosing it would. */
async function choose(name: string, body: Buffer) {
  await page.locator('input[data-import-file]').setInputFiles({ name, mimeType: 'text/csv', buffer: body });
}

/** A separate admin session for looking at the API directly. */
async function apiToken(): Promise<string> {
  const res = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: 'demo-2026' }),
  });
  return ((await res.json()) as { token: string }).token;
}

beforeAll(async () => {
  e = await startE2E();
  page = await e.newPage();
  await staffWithPassword(page, e.host.url, 'admin');
}, 180_000);
afterAll(async () => e?.close());

describe('an admin imports households in the browser', () => {
  it('finds 住户导入, 员工与片区 and 公司设置 on the staff home', async () => {
    await expect.poll(() => page.getByText('住户导入', { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByText('员工与片区', { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByText('公司设置', { exact: true }).count(), { timeout: 10_000 }).toBe(1);
    // the day's numbers load (the dashboard answers)
    await expect.poll(() => page.getByText('今日工作').count(), { timeout: 10_000 }).toBe(1);
    // 7-day charts: payments (count, amount) and repair tickets, 7 days each, today last
    await expect.poll(() => page.locator('[data-chart]').count(), { timeout: 10_000 }).toBe(3);
    for (const title of ['缴费笔数', '缴费金额（元）', '维修工单']) {
      const chart = page.locator(`[data-chart="${title}"]`);
      await expect.poll(() => chart.locator('.chart-day').count(), { timeout: 10_000 }).toBe(7);
      await expect.poll(() => chart.locator('.chart-label').last().innerText(), { timeout: 10_000 }).toBe('今天');
    }
    await expect.poll(() => page.locator('[data-chart="维修工单"]').innerText(), { timeout: 10_000 }).toContain('新报修');
    await shot(page, 'staff-home-charts');
    await page.getByText('住户导入', { exact: true }).click();
    await page.waitForURL(/staff\/admin-import\/index/);
  });

  it('uploads a CSV with bad rows and sees every problem with row and column, and nothing written', async () => {
    const before = await e.host.ds.getRepository(Account).count();
    await choose('住户-有错.csv', csv([row(1), row(2, { heatedArea: '七十', contactPhone: '123' }), row(3, { areaCode: 'ZZ9' }), row(4, { ownerName: '' })]));
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 20_000 }).toBe('rejected');
    await expect.poll(() => job().getAttribute('data-dry-run'), { timeout: 10_000 }).toBe('1');

    // what the server found is exactly what the table lists
    const id = Number(await job().getAttribute('data-import-job'));
    const token = await apiToken();
    const api = (await fetch(`${e.host.url}/api/v1/admin/imports/${id}`, { headers: { Authorization: `Bearer ${token}` } }).then((r) => r.json())) as {
      issueCount: number;
      issues: { row: number; column: string; message: string }[];
    };
    expect(api.issueCount).toBeGreaterThanOrEqual(4);
    const shown = page.locator('.admin-issue');
    await expect.poll(() => shown.count()).toBe(api.issueCount);
    await expect.poll(() => page.locator('[data-issue-count]').getAttribute('data-issue-count'), { timeout: 10_000 }).toBe(String(api.issueCount));
    const cells = await shown.evaluateAll((els) =>
      els.map((el) => ({ row: Number(el.getAttribute('data-row')), column: el.getAttribute('data-column'), text: (el as HTMLElement).innerText })),
    );
    for (const i of api.issues) expect(cells.some((c) => c.row === i.row && c.column === i.column && c.text.includes(i.message))).toBe(true);
    // the rows of the file as Excel numbers them (header = 1): 3, 4, 5 are bad, 2 is fine
    const byRow = (r: number) => cells.filter((c) => c.row === r).map((c) => c.column);
    expect(byRow(2)).toEqual([]);
    expect(byRow(3)).toEqual(expect.arrayContaining(['供热面积（㎡）', '联系电话']));
    expect(byRow(4)).toContain('片区编码');
    expect(byRow(5)).toContain('户主姓名');
    // the XLSX report is offered, and the button to import is not
    await expect.poll(() => page.locator('[data-report]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-confirm-import]').count(), { timeout: 10_000 }).toBe(0);
    const report = await fetch(`${e.host.url}/api/v1/admin/imports/${id}/report`, { headers: { Authorization: `Bearer ${token}` } });
    expect(report.status).toBe(200);
    expect(
      Buffer.from(await report.arrayBuffer())
        .subarray(0, 2)
        .toString(),
    ).toBe('PK');
    await shot(page, 'admin-import-problems');
    await expect.poll(() => e.host.ds.getRepository(Account).count(), { timeout: 10_000 }).toBe(before);
  });

  it('uploads the corrected CSV, checks it, imports it and sees the summary; the accounts are there', async () => {
    const before = await e.host.ds.getRepository(Account).count();
    await choose('住户-已改.csv', csv([row(1), row(2), row(3), row(4)]));
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 20_000 }).toBe('done');
    await expect.poll(() => job().getAttribute('data-dry-run'), { timeout: 10_000 }).toBe('1');
    await expect.poll(() => page.locator('.admin-issue').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => e.host.ds.getRepository(Account).count(), { timeout: 10_000 }).toBe(before); // a dry run writes nothing

    await page.locator('[data-confirm-import]').click();
    await expect.poll(() => job().getAttribute('data-dry-run'), { timeout: 10_000 }).toBe('0');
    await expect.poll(() => job().getAttribute('data-state'), { timeout: 30_000 }).toBe('done');
    await expect.poll(() => page.locator('[data-summary-rows]').innerText(), { timeout: 10_000 }).toBe('4');
    await expect.poll(() => page.locator('[data-summary-accounts]').innerText(), { timeout: 10_000 }).toBe('4 / 0');
    await expect.poll(() => page.locator('[data-imported]').count(), { timeout: 10_000 }).toBe(1);
    await shot(page, 'admin-import-done');

    await expect.poll(() => e.host.ds.getRepository(Account).count(), { timeout: 10_000 }).toBe(before + 4);
    // staff find the imported household through the API
    const found = (await fetch(`${e.host.url}/api/v1/staff/accounts?q=88010003`, { headers: { Authorization: `Bearer ${await apiToken()}` } }).then((r) =>
      r.json(),
    )) as {
      items: Record<string, unknown>[];
    };
    expect(found.items).toHaveLength(1);
    expect(JSON.stringify(found.items[0])).toContain('网页户3');
  });
});

/** The error shown under the field of a Taro <Input name=…>. */
const fieldError = (name: string) => page.locator('.field', { has: page.locator(`input[name="${name}"]`) }).locator('.field-error');

describe('an admin changes the company settings', () => {
  it('sees every bad field marked at its field, then saves, and the change is in the audit log', async () => {
    await open(page, e.host.url, '/staff/admin-settings/index');
    await expect.poll(() => page.locator('input[name="name"]').inputValue(), { timeout: 10_000 }).not.toBe('');
    await fill(page, 'hotline', '热线');
    await fill(page, 'rules.sla.quietStart', '25:00');
    await fill(page, 'rules.baseFeeRatioBp', '200');
    await fill(page, 'rules.invoice.goodsCode', '123');
    await page.locator('[data-save-settings]').click();
    await expect.poll(() => page.locator('[data-settings-errors]').getAttribute('data-settings-errors'), { timeout: 10_000 }).toBe('4');
    for (const f of ['hotline', 'rules.sla.quietStart', 'rules.baseFeeRatioBp', 'rules.invoice.goodsCode'])
      await expect.poll(() => fieldError(f).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => fieldError('rules.invoice.goodsCode').innerText(), { timeout: 10_000 }).toContain('19位数字');
    await expect.poll(() => fieldError('name').count(), { timeout: 10_000 }).toBe(0);
    await shot(page, 'admin-settings-errors');

    await fill(page, 'hotline', '0431-12345678');
    await fill(page, 'rules.sla.quietStart', '21:00');
    await fill(page, 'rules.baseFeeRatioBp', '35');
    await fill(page, 'rules.invoice.goodsCode', '1100102010100000000');
    await page.locator('[data-save-settings]').click();
    await expect.poll(() => page.locator('[data-settings-saved]').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('.field-error').count(), { timeout: 10_000 }).toBe(0);
    const rules = await e.host.services.company.rules();
    expect(rules.baseFeeRatioBp).toBe(3500);
    expect(rules.sla.quietStart).toBe('21:00');
    const entry = page.locator('[data-audit] [data-action="settings.update"]').first();
    await expect.poll(() => entry.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => entry.innerText(), { timeout: 10_000 }).toContain('报停基础热费比例：30% → 35%');
  });
});

describe('an admin manages staff', () => {
  it('creates a staff member (every bad field first), gets a WeChat invite code, and disables them', async () => {
    await open(page, e.host.url, '/staff/admin-staff/index');
    await expect.poll(() => page.locator('[data-staff="admin"]').count(), { timeout: 10_000 }).toBe(1);
    await page.locator('[data-new-staff]').click();
    await fill(page, 'username', 'x');
    await fill(page, 'password', 'short');
    await page.locator('[data-create-staff]').click();
    for (const f of ['username', 'name', 'password']) await expect.poll(() => fieldError(f).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-staff-form] .field-error').count(), { timeout: 10_000 }).toBe(4); // and the roles

    await fill(page, 'username', 'e2e.agent');
    await fill(page, 'name', '吴客服');
    await fill(page, 'password', 'demo-2026-x');
    await page.locator('[data-chips="roles"] [data-chip="agent"]').click();
    await page.locator('[data-chips="areas"] [data-chip]').first().click();
    await page.locator('[data-create-staff]').click();
    const card = page.locator('[data-staff="e2e.agent"]');
    await expect.poll(() => card.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('客服');

    await card.locator('[data-invite]').click();
    await expect.poll(() => card.locator('[data-invite-code]').getAttribute('data-invite-code'), { timeout: 10_000 }).toMatch(/^[A-Z2-9]{8}$/);
    await shot(page, 'admin-staff');

    // edit roles: add 管家, drop the area (all areas)
    await card.locator('[data-edit]').click();
    await card.locator('[data-chips="edit-roles"] [data-chip="butler"]').click();
    await card.locator('[data-chips="edit-areas"] .admin-chip-on').first().click();
    await card.locator('[data-save-staff]').click();
    await expect.poll(() => card.locator('[data-staff-edit]').count(), { timeout: 10_000 }).toBe(0);
    const edited = (await e.host.services.identity.listStaff()).find((x) => x.username === 'e2e.agent')!;
    expect(edited).toMatchObject({ roles: ['agent', 'butler'], areaIds: [] });
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('全部片区');
    // no 停用 on one's own card
    await expect.poll(() => page.locator('[data-staff="admin"] [data-disable]').count(), { timeout: 10_000 }).toBe(0);

    await card.locator('[data-disable]').click();
    await page.locator('.taro-model__confirm').click();
    await expect.poll(() => card.innerText(), { timeout: 10_000 }).toContain('已停用');
    const login = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'e2e.agent', password: 'demo-2026-x' }),
    });
    expect(login.status).toBeGreaterThanOrEqual(400);
  });

  it('sees a staff login locked after wrong passwords and lifts the lock', async () => {
    const login = (password: string) =>
      fetch(`${e.host.url}/api/v1/auth/staff/login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ username: 'worker1', password }),
      });
    for (let i = 0; i < 5; i++) await login('wrong-password');
    expect((await login('demo-2026')).status).toBe(429);
    await open(page, e.host.url, '/staff/admin-staff/index');
    const locked = page.locator('[data-locked="worker1"]');
    await expect.poll(() => locked.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.locator('[data-staff="worker1"]').innerText(), { timeout: 10_000 }).toContain('登录已锁定');
    await shot(page, 'admin-staff-locked');
    await locked.locator('[data-unlock]').click();
    await expect.poll(() => locked.count(), { timeout: 10_000 }).toBe(0);
    expect((await login('demo-2026')).status).toBe(200);
  });

  it('creates an area and renames it', async () => {
    await fill(page, 'areaCode', 'E2E');
    await fill(page, 'areaName', '测试片区');
    await page.locator('[data-create-area]').click();
    const area = page.locator('[data-area="E2E"]');
    await expect.poll(() => area.count(), { timeout: 10_000 }).toBe(1);
    await area.locator('input').fill('浏览器片区');
    await area.getByText('改名').click();
    await expect.poll(async () => (await e.host.services.company.areas()).find((a) => a.code === 'E2E')?.name, { timeout: 10_000 }).toBe('浏览器片区');
  });

  it('adds a standard reply with placeholders to the library agents use', async () => {
    await open(page, e.host.url, '/staff/canned/index');
    await page.getByText('新增话术').click();
    await page.locator('.segment', { hasText: '缴费' }).first().click();
    await fill(page, 'cannedTitle', '线上缴费指引');
    await page.locator('textarea[name="cannedBody"]').fill('{住户}您好，在“账单”页选择户号即可微信缴费；如有疑问请拨打{热线}。');
    await page.getByText('保存', { exact: true }).click();
    await expect.poll(() => page.locator('.canned-card', { hasText: '线上缴费指引' }).count(), { timeout: 10_000 }).toBe(1);
    const agent = await fetch(`${e.host.url}/api/v1/auth/staff/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'agent1', password: 'demo-2026' }),
    });
    const token = (await agent.json()).token;
    const list = await (
      await fetch(`${e.host.url}/api/v1/staff/canned-replies?q=${encodeURIComponent('线上缴费')}`, { headers: { Authorization: `Bearer ${token}` } })
    ).json();
    expect(list.items.map((c: any) => c.category)).toEqual(['payment']);
  });
});
