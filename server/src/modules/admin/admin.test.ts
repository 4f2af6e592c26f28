import { beforeAll, describe, expect, it } from 'vitest';
import { Like } from 'typeorm';
import ExcelJS from 'exceljs';
import { COMPANY_SETTING_LABEL, HOUSEHOLD_COLUMNS, arrearsHeader, auditFieldLabel, chinaDate, seasonLabel } from '@heat-butler/shared';
import { testAppForFile } from '../../test-support/app-for-file';
import { householdRow } from '../../test-support/household-row';
import { DEMO } from '../../demo/seed';
import { Account, Building } from '../accounts/entities';
import { Bill } from '../billing/entities';
import { PaymentOrder } from '../payments/entities';
import { RepairTicket } from '../repairs/entities';
import { AuditLog, ImportJob } from './entities';

/** last season and this season of the demo, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];

const t = testAppForFile();
let admin: string;
beforeAll(async () => {
  admin = await t.loginStaff('admin');
});

const HEADERS = [...HOUSEHOLD_COLUMNS.map((c) => c.header), arrearsHeader(`${LAST}`)];
type Row = (string | number | null)[];

async function xlsx(rows: Row[], headers: string[] = HEADERS): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('住户');
  ws.addRow(headers);
  for (const r of rows) ws.addRow(r);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

async function upload(body: Buffer, query = '', token = admin) {
  const res = await fetch(`${t.url}/api/v1/admin/imports${query}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/octet-stream' },
    body,
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function waitJob(id: number) {
  for (let i = 0; i < 600; i++) {
    const res = await t.call('GET', `/api/v1/admin/imports/${id}`, { token: admin });
    expect(res.status).toBe(200);
    if (['done', 'rejected', 'failed'].includes(res.body.state)) return res.body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('import did not finish');
}

async function importFile(body: Buffer, query = '') {
  const res = await upload(body, query);
  expect(res.status).toBe(202);
  return waitJob(res.body.id);
}

async function download(path: string, token = admin): Promise<{ status: number; buf: Buffer; type: string | null }> {
  const res = await fetch(`${t.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, buf: Buffer.from(await res.arrayBuffer()), type: res.headers.get('content-type') };
}

const counts = async () => ({
  accounts: await t.ds.getRepository(Account).count(),
  buildings: await t.ds.getRepository(Building).count(),
  bills: await t.ds.getRepository(Bill).count(),
});

/** a row of a new building (99号楼 of area A01) */
const good = (i: number, over: Partial<Record<string, string>> = {}): Row =>
  householdRow(
    {
      accountNo: `9901${String(i).padStart(4, '0')}`,
      areaCode: 'A01',
      buildingName: '99号楼',
      buildingAddress: '长春市朝阳区测试路1号测试小区',
      unitNo: String(1 + (i % 2)),
      roomNo: String(101 + i),
      ownerName: `测试户${i}`,
      contactPhone: '13912345678',
      heatedArea: '88.50',
      use: '居民',
      status: '正常供热',
      arrears: '',
    },
    over,
  );

describe('household import', () => {
  it('offers a template with the Chinese headers and an example row', async () => {
    const res = await download('/api/v1/admin/imports/template');
    expect(res.status).toBe(200);
    expect(res.type).toContain('spreadsheetml');
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.buf as any);
    const ws = wb.worksheets[0]!;
    expect((ws.getRow(1).values as string[]).slice(1, 12)).toEqual(HOUSEHOLD_COLUMNS.map((c) => c.header));
    expect(String(ws.getRow(1).getCell(12).value)).toMatch(/^欠费\d{4}-\d{4}（元）$/);
    expect(ws.getRow(2).getCell(1).value).toBe('010101120101');
    // the template as downloaded validates (its example row refers to area A01)
    const job = await importFile(res.buf, '?dryRun=1');
    expect(job.state).toBe('done');
    expect(job.summary.rows).toBe(1);
  });

  it('reports every bad row and field at once (20+ kinds) and writes nothing', async () => {
    const before = await counts();
    const existing = await t.ds.getRepository(Account).findOneByOrFail({ accountNo: DEMO.accounts[1]!.accountNo });
    const building = await t.ds.getRepository(Building).findOneByOrFail({ id: existing.buildingId });
    const unit = (await t.services.accounts.unitsOfBuildings([building.id])).find((u) => u.id === existing.unitId)!;
    const rows: Row[] = [
      good(1), // row 2: fine
      good(2, { accountNo: '' }), // 3 户号 empty
      good(3, { accountNo: 'ab#12' }), // 4 户号 format
      good(4, { accountNo: '99010001' }), // 5 户号 duplicate of row 2
      good(5, { areaCode: '' }), // 6 片区编码 empty
      good(6, { areaCode: 'Z99' }), // 7 片区编码 unknown
      good(7, { buildingName: '' }), // 8 楼栋 empty
      good(8, { buildingAddress: '别的地址' }), // 9 楼栋地址 differs from row 2
      good(9, { unitNo: '一单元' }), // 10 单元 format
      good(10, { roomNo: '' }), // 11 房号 empty
      good(11, { unitNo: '2', roomNo: '102' }), // 12 same room as row 2 (unit 2, room 102)
      good(12, { areaCode: 'A01', buildingName: building.name, buildingAddress: building.address, unitNo: unit.no, roomNo: existing.roomNo }), // 13 room taken in the database
      good(13, { ownerName: '' }), // 14 户主 empty
      good(14, { ownerName: '张'.repeat(33) }), // 15 户主 too long
      good(15, { contactPhone: '12345' }), // 16 phone
      good(16, { heatedArea: '八十' }), // 17 area not a number
      good(17, { heatedArea: '88.555' }), // 18 area 3 decimals
      good(18, { heatedArea: '0' }), // 19 area zero
      good(19, { use: '工业' }), // 20 use
      good(20, { status: '停用' }), // 21 status
      good(21, { arrears: '12.345' }), // 22 arrears decimals
      good(22, { arrears: '-5' }), // 23 arrears negative
      good(23, { arrears: 'abc' }), // 24 arrears text
      [...good(24).slice(0, 11), '100.00'].map((v, i) => (i === 0 ? DEMO.accounts[0]!.accountNo : v)), // 25 arrears on a bill already paid
      good(25, { heatedArea: '200000' }), // 26 area too large
    ];
    const job = await importFile(await xlsx(rows));
    expect(job.state).toBe('rejected');
    const got = job.issues.map((i: any) => `${i.row}:${i.column}`);
    const expected = [
      '3:户号',
      '4:户号',
      '5:户号',
      '6:片区编码',
      '7:片区编码',
      '8:楼栋',
      '9:楼栋地址',
      '10:单元',
      '11:房号',
      '12:房号',
      '13:房号',
      '14:户主姓名',
      '15:户主姓名',
      '16:联系电话',
      '17:供热面积（㎡）',
      '18:供热面积（㎡）',
      '19:供热面积（㎡）',
      '20:用途',
      '21:状态',
      `22:欠费${LAST}（元）`,
      `23:欠费${LAST}（元）`,
      `24:欠费${LAST}（元）`,
      `25:欠费${LAST}（元）`,
      '26:供热面积（㎡）',
    ];
    expect(got).toEqual(expected);
    expect(job.issueCount).toBe(expected.length);
    for (const i of job.issues) expect(i.message).toMatch(/[\u4e00-\u9fa5]/);
    expect(job.issues.find((i: any) => i.row === 5).message).toBe('户号与第2行重复');
    expect(job.issues.find((i: any) => i.row === 12).message).toBe('该房间与第2行（户号99010001）重复');
    expect(job.issues.find((i: any) => i.row === 9).message).toMatch(/^同一楼栋的地址与第2行不一致/);
    expect(job.issues.find((i: any) => i.row === 13).message).toContain(existing.accountNo);
    expect(await counts()).toEqual(before);

    // the report lists the same problems
    const report = await download(`/api/v1/admin/imports/${job.id}/report`);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(report.buf as any);
    expect(wb.worksheets[0]!.rowCount).toBe(expected.length + 1);
  });

  it('rejects arrears of a season that does not exist, and a file without the required columns', async () => {
    const job = await importFile(await xlsx([good(1, { arrears: '10' })], [...HEADERS.slice(0, 11), arrearsHeader('2019-2020')]));
    expect(job.state).toBe('rejected');
    expect(job.issues).toEqual([{ row: 2, column: '欠费2019-2020（元）', value: '10', message: expect.stringContaining('采暖季2019-2020不存在') }]);
    // a row with problems of its own still gets the unknown area reported with them
    const both = await importFile(await xlsx([good(1, { areaCode: 'Z77', heatedArea: '-1' })]));
    expect(both.issues.map((i: any) => i.column)).toEqual(['片区编码', '供热面积（㎡）']);
    const noCols = await importFile(await xlsx([['1', '2']], ['户号', '备注']));
    expect(noCols.state).toBe('rejected');
    expect(noCols.issues.every((i: any) => i.row === 1)).toBe(true);
    expect(noCols.issues.map((i: any) => i.column)).toContain('片区编码');
  });

  it('imports good rows with arrears, then a re-import (CSV in GBK) updates instead of duplicating', async () => {
    const before = await counts();
    const rows = Array.from({ length: 30 }, (_, i) => good(100 + i, { arrears: i % 3 === 0 ? '1234.50' : '' }));
    const job = await importFile(await xlsx(rows));
    expect(job.state).toBe('done');
    expect(job.summary).toMatchObject({ rows: 30, buildingsCreated: 1, unitsCreated: 2, accountsCreated: 30, accountsUpdated: 0, arrearsBills: 10 });
    const after = await counts();
    expect(after.accounts).toBe(before.accounts + 30);
    expect(after.buildings).toBe(before.buildings + 1);
    expect(after.bills).toBe(before.bills + 10);
    const a = await t.ds.getRepository(Account).findOneByOrFail({ accountNo: '99010100' });
    expect(a).toMatchObject({ ownerName: '测试户100', heatedArea: 8850, use: 'residential', status: 'active', contactPhone: '13912345678' });
    const bill = await t.ds.getRepository(Bill).findOneByOrFail({ accountId: a.id });
    expect(bill).toMatchObject({ status: 'unpaid', chargeFen: 123450, paidFen: 0 });
    // the imported arrears show up in the resident's bills as 往年欠费
    const me = await t.loginResident();
    expect((await t.call('POST', '/api/v1/accounts/bind', { token: me, body: { accountNo: '99010100', ownerName: '测试户100' } })).status).toBe(201);
    const bills = await t.call('GET', '/api/v1/bills', { token: me });
    expect(bills.body.items[0]).toMatchObject({ accountNo: '99010100', season: `${LAST}`, status: 'unpaid', arrears: true });

    // re-import as a GBK CSV: changed names, area, use, status and arrears
    const csv = [HEADERS.join(',')]
      .concat(
        rows.map((r, i) =>
          good(100 + i, {
            ownerName: `改名${i}`,
            heatedArea: '90',
            use: i === 1 ? '非居民' : '居民',
            status: i === 2 ? '已报停' : '正常供热',
            arrears: i % 3 === 0 ? '1000' : '',
          }).join(','),
        ),
      )
      .join('\r\n');
    const gbk = Buffer.from(new TextEncoderGbk().encode(csv));
    const again = await importFile(gbk);
    expect(again.state).toBe('done');
    expect(again.format).toBe('csv');
    expect(again.summary).toMatchObject({ rows: 30, buildingsCreated: 0, unitsCreated: 0, accountsCreated: 0, accountsUpdated: 30, arrearsBills: 10 });
    expect(await counts()).toEqual(after);
    expect(await t.ds.getRepository(Account).findOneByOrFail({ accountNo: '99010100' })).toMatchObject({ ownerName: '改名0', heatedArea: 9000 });
    expect(await t.ds.getRepository(Account).findOneByOrFail({ accountNo: '99010101' })).toMatchObject({ use: 'commercial' });
    expect(await t.ds.getRepository(Account).findOneByOrFail({ accountNo: '99010102' })).toMatchObject({ status: 'stopped' });
    expect(await t.ds.getRepository(Bill).findOneByOrFail({ id: bill.id })).toMatchObject({ chargeFen: 100000, status: 'unpaid' });

    // audited
    const log = await t.ds.getRepository(AuditLog).find({ where: { action: 'import.households' } });
    expect(log.length).toBe(2);
    expect(log[0]!.actorName).toBe('周管理');

    // issue 17 item 2: the imported households have no bill for this season; the summary counts them and 出账 issues them
    expect(job.summary.seasonBills).toEqual({ season: CURRENT, label: seasonLabel(CURRENT), unbilled: 30 });
    expect(again.summary.seasonBills).toEqual({ season: CURRENT, label: seasonLabel(CURRENT), unbilled: 30 });
    const issued = await t.call('POST', `/api/v1/staff/seasons/${CURRENT}/bills`, { token: admin });
    expect(issued.body).toMatchObject({ issued: 30, remaining: 0 });
    const now = await t.call('GET', '/api/v1/bills', { token: me });
    expect(now.body.items.find((b: any) => b.season === CURRENT)).toMatchObject({ accountNo: '99010100', status: 'unpaid', kind: 'full' });
    expect((await t.call('POST', `/api/v1/staff/seasons/${CURRENT}/bills`, { token: admin })).body.issued).toBe(0);
  });

  it("reads Chinese text that straddles the reader's chunks intact (4,000 rows)", async () => {
    const rows = Array.from({ length: 4000 }, (_, i) =>
      good(5000 + i, {
        buildingName: `${80 + Math.floor(i / 100)}号楼`,
        buildingAddress: '长春市朝阳区湖西路一百六十六号锦绣家园',
        roomNo: String(1000 + (i % 100)),
        ownerName: `欧阳${String.fromCharCode(0x4e00 + i)}娜`,
      }),
    );
    const job = await importFile(await xlsx(rows));
    expect(job.issues).toEqual([]);
    expect(job.state).toBe('done');
    expect(job.summary.accountsCreated).toBe(4000);
    const names = await t.ds.getRepository(Account).find({ select: { accountNo: true, ownerName: true }, where: { ownerName: Like('欧阳%') } });
    expect(names.length).toBe(4000);
    for (const a of names) expect(a.ownerName).toBe(`欧阳${String.fromCharCode(0x4e00 + Number(a.accountNo.slice(4)) - 5000)}娜`);
  });

  it('export of accounts round-trips through the import without changes', async () => {
    const snapshot = async () => {
      const accounts = await t.ds.getRepository(Account).find({ order: { id: 'ASC' } });
      const bills = await t.ds.getRepository(Bill).find({ order: { id: 'ASC' } });
      return {
        accounts: accounts.map(({ createdAt, updatedAt, ...a }) => a),
        bills: bills.map((b) => ({ id: b.id, accountId: b.accountId, seasonId: b.seasonId, status: b.status, owed: b.chargeFen - b.paidFen })),
      };
    };
    const before = await snapshot();
    const res = await download('/api/v1/admin/exports/accounts');
    expect(res.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(res.buf as any);
    const ws = wb.worksheets[0]!;
    expect(ws.rowCount).toBe(before.accounts.length + 1);
    const job = await importFile(res.buf);
    expect(job.state).toBe('done');
    expect(job.summary).toMatchObject({ accountsCreated: 0, accountsUpdated: before.accounts.length, buildingsCreated: 0, unitsCreated: 0 });
    expect(await snapshot()).toEqual(before);
  });

  it('exports bills and payments as XLSX', async () => {
    const bills = await download(`/api/v1/admin/exports/bills?season=${LAST}`);
    expect(bills.status).toBe(200);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(bills.buf as any);
    const ws = wb.worksheets[0]!;
    expect(ws.getRow(1).getCell(1).value).toBe('户号');
    expect(ws.rowCount).toBeGreaterThan(200);
    const finance = await t.loginStaff('finance1');
    const pays = await download('/api/v1/admin/exports/payments?from=2026-11-01&to=2026-11-30', finance);
    expect(pays.status).toBe(200);
    const bad = await t.call('GET', '/api/v1/admin/exports/payments?from=2026-11-30&to=2026-11-01', { token: finance });
    expect(bad.status).toBe(400);
  });
});

describe('an interrupted import', () => {
  it('blocks new imports only while its heartbeat is fresh; after 2 minutes without one it is failed', async () => {
    const repo = t.ds.getRepository(ImportJob);
    const job = await t.services.admin.imports.createJob({ fileName: 'died.xlsx', format: 'xlsx', dryRun: false, createdBy: null });
    const ago = (ms: number) => new Date(Date.now() - ms);
    // the process is writing and alive (heartbeat 1 minute ago): a second import is refused
    await repo.update(job.id, { state: 'writing', processed: 500, total: 1000, updatedAt: ago(60_000) });
    const busy = await upload(await xlsx([good(900)]));
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('IMPORT_BUSY');
    expect((await t.call('GET', `/api/v1/admin/imports/${job.id}`, { token: admin })).body.state).toBe('writing');

    // the process died: no heartbeat for 2 minutes (though started only 3 minutes ago)
    await repo.update(job.id, { updatedAt: ago(2 * 60_000 + 5_000) });
    const dead = (await t.call('GET', `/api/v1/admin/imports/${job.id}`, { token: admin })).body;
    expect(dead).toMatchObject({ state: 'failed', error: '导入中断，请重新上传', percent: 0 });
    const next = await importFile(await xlsx([good(900)]));
    expect(next.state).toBe('done');
    const row = await repo.findOneByOrFail({ id: next.id });
    expect(row.updatedAt!.getTime()).toBeGreaterThan(Date.now() - 60_000);
    // nothing else touched: a finished job is never failed by age
    await repo.update(next.id, { updatedAt: ago(60 * 60_000) });
    expect((await t.call('GET', `/api/v1/admin/imports/${next.id}`, { token: admin })).body.state).toBe('done');
  });
});

describe('staff, areas and audit', () => {
  it('creates and renames areas, creates staff who can log in, disables them (sessions end), all audited', async () => {
    const area = await t.call('POST', '/api/v1/admin/areas', { token: admin, body: { code: 'a09', name: '西城片区' } });
    expect(area.status).toBe(201);
    expect(area.body).toMatchObject({ code: 'A09', name: '西城片区' });
    expect((await t.call('POST', '/api/v1/admin/areas', { token: admin, body: { code: 'A09', name: '重复' } })).body.error.code).toBe('AREA_CODE_EXISTS');
    const renamed = await t.call('PUT', `/api/v1/admin/areas/${area.body.id}`, { token: admin, body: { name: '西城新区' } });
    expect(renamed.body.name).toBe('西城新区');

    const bad = await t.call('POST', '/api/v1/admin/staff', { token: admin, body: { username: 'x', name: '', password: '1', roles: [] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['name', 'password', 'roles', 'username']);
    const created = await t.call('POST', '/api/v1/admin/staff', {
      token: admin,
      body: { username: 'agent9', name: '刘客服', password: 'secret-2026', roles: ['agent'], areaIds: [area.body.id] },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'agent9', roles: ['agent'], areaIds: [area.body.id], disabled: false });
    const dupe = await t.call('POST', '/api/v1/admin/staff', {
      token: admin,
      body: { username: 'agent9', name: '刘', password: 'secret-2026', roles: ['agent'] },
    });
    expect(dupe.status).toBe(409);
    // the admin is told what is wrong (not "操作冲突，请刷新后重试")
    expect(dupe.body.error).toMatchObject({ code: 'USERNAME_EXISTS', message: '用户名已存在，请换一个用户名', details: { field: 'username' } });
    const token = await t.loginStaff('agent9', 'secret-2026');
    expect((await t.call('GET', '/api/v1/me', { token })).body.areaIds).toEqual([area.body.id]);

    const updated = await t.call('PUT', `/api/v1/admin/staff/${created.body.id}`, { token: admin, body: { roles: ['agent', 'butler'] } });
    expect(updated.body.roles).toEqual(['agent', 'butler']);
    const invite = await t.call('POST', `/api/v1/admin/staff/${created.body.id}/invite`, { token: admin });
    expect(invite.status).toBe(201);
    expect(invite.body.inviteCode).toMatch(/^[A-Z2-9]{8}$/);

    expect((await t.call('POST', `/api/v1/admin/staff/${created.body.id}/disable`, { token: admin })).body.disabled).toBe(true);
    expect((await t.call('GET', '/api/v1/me', { token })).status).toBe(401);
    const me = (await t.call('GET', '/api/v1/me', { token: admin })).body;
    const self = await t.call('POST', `/api/v1/admin/staff/${me.id}/disable`, { token: admin });
    expect(self.status).toBe(409);
    expect(self.body.error).toMatchObject({ code: 'CANNOT_DISABLE_SELF', message: '不能停用自己的账号' });
    const drop = await t.call('PUT', `/api/v1/admin/staff/${me.id}`, { token: admin, body: { roles: ['finance'] } });
    expect(drop.status).toBe(409);
    expect(drop.body.error).toMatchObject({ code: 'CANNOT_DROP_OWN_ADMIN', message: expect.stringContaining('管理员') });
    expect((await t.call('GET', '/api/v1/me', { token: admin })).body.roles).toEqual(['admin']);
    // editing one's own areas is fine; another staff member's roles and areas change and are audited
    const mine = await t.call('PUT', `/api/v1/admin/staff/${me.id}`, { token: admin, body: { roles: ['admin', 'finance'], areaIds: me.areaIds } });
    expect(mine.status).toBe(200);
    await t.call('PUT', `/api/v1/admin/staff/${me.id}`, { token: admin, body: { roles: ['admin'] } });
    const moved = await t.call('PUT', `/api/v1/admin/staff/${created.body.id}`, { token: admin, body: { roles: ['butler'], areaIds: [] } });
    expect(moved.body).toMatchObject({ roles: ['butler'], areaIds: [] });
    const unknownArea = await t.call('PUT', `/api/v1/admin/staff/${created.body.id}`, { token: admin, body: { areaIds: [999999] } });
    expect(unknownArea.body.error.details.fields[0]).toMatchObject({ field: 'areaIds' });

    const log = await t.call('GET', '/api/v1/admin/audit?pageSize=100', { token: admin });
    const actions = log.body.items.map((i: any) => i.action);
    for (const a of ['area.create', 'area.rename', 'staff.create', 'staff.update', 'staff.invite', 'staff.disable']) expect(actions).toContain(a);
    const rename = log.body.items.find((i: any) => i.action === 'area.rename');
    expect(rename).toMatchObject({ actorName: '周管理', before: { name: '西城片区' }, after: { name: '西城新区' }, actionLabel: '修改片区名称' });
  });
});

describe('company settings', () => {
  it('lists every bad field at once, saves a good change, audits it with before/after', async () => {
    const cur = await t.call('GET', '/api/v1/admin/settings', { token: admin });
    expect(cur.status).toBe(200);
    expect(cur.body.rules.sla.routineContactMinutes).toBe(30);
    const bad = await t.call('PUT', '/api/v1/admin/settings', {
      token: admin,
      body: {
        ...cur.body,
        name: '',
        hotline: 'call me',
        rules: { ...cur.body.rules, changeDeadline: '9月20日', baseFeeRatioBp: 20000, sla: { ...cur.body.rules.sla, quietStart: '25:00' } },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.fields.map((f: any) => f.field).sort()).toEqual([
      'hotline',
      'name',
      'rules.baseFeeRatioBp',
      'rules.changeDeadline',
      'rules.sla.quietStart',
    ]);
    const next = {
      ...cur.body,
      hotline: '0431-96010',
      rules: { ...cur.body.rules, baseFeeRatioBp: 2500, sla: { ...cur.body.rules.sla, routineContactMinutes: 20 } },
    };
    const ok = await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: next });
    expect(ok.status).toBe(200);
    expect(ok.body.rules.baseFeeRatioBp).toBe(2500);
    expect((await t.call('GET', '/api/v1/company')).body.hotline).toBe('0431-96010');
    expect((await t.services.company.rules()).sla.routineContactMinutes).toBe(20);
    const log = await t.call('GET', '/api/v1/admin/audit?action=settings.update', { token: admin });
    expect(log.body.items[0]).toMatchObject({
      before: { hotline: cur.body.hotline, rules: { baseFeeRatioBp: 3000, sla: { routineContactMinutes: 30 } } },
      after: { hotline: '0431-96010', rules: { baseFeeRatioBp: 2500, sla: { routineContactMinutes: 20 } } },
    });
    // every setting has a Chinese name for the audit log
    const leaves = (v: unknown, prefix = ''): string[] =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k)) : [prefix];
    const unnamed = leaves(cur.body).filter((path) => !COMPANY_SETTING_LABEL[path]);
    expect(unnamed).toEqual([]);
    expect(auditFieldLabel('settings.update', 'rules.baseFeeRatioBp')).toBe('报停基础热费比例');
    expect(auditFieldLabel('staff.update', 'roles')).toBe('角色');
    // put it back for other tests
    await t.call('PUT', '/api/v1/admin/settings', { token: admin, body: cur.body });
  });
});

describe('role checks', () => {
  const ROUTES: [string, string, string[]][] = [
    ['GET', '/api/v1/admin/imports/template', ['admin']],
    ['POST', '/api/v1/admin/imports', ['admin']],
    ['GET', '/api/v1/admin/imports', ['admin']],
    ['GET', '/api/v1/admin/imports/1', ['admin']],
    ['GET', '/api/v1/admin/imports/1/report', ['admin']],
    ['GET', '/api/v1/admin/exports/accounts', ['admin']],
    ['GET', '/api/v1/admin/exports/bills', ['admin', 'finance']],
    ['GET', '/api/v1/admin/exports/payments?from=2026-11-01&to=2026-11-02', ['admin', 'finance']],
    ['GET', '/api/v1/admin/staff', ['admin']],
    ['POST', '/api/v1/admin/staff', ['admin']],
    ['PUT', '/api/v1/admin/staff/1', ['admin']],
    ['POST', '/api/v1/admin/staff/1/disable', ['admin']],
    ['POST', '/api/v1/admin/staff/1/invite', ['admin']],
    ['GET', '/api/v1/admin/areas', ['admin']],
    ['POST', '/api/v1/admin/areas', ['admin']],
    ['PUT', '/api/v1/admin/areas/1', ['admin']],
    ['GET', '/api/v1/admin/settings', ['admin']],
    ['PUT', '/api/v1/admin/settings', ['admin']],
    ['GET', '/api/v1/admin/audit', ['admin']],
  ];
  it('every admin route refuses residents, other staff and anonymous callers', async () => {
    const tokens: Record<string, string> = {
      resident: await t.loginResident(),
      agent: await t.loginStaff('agent1'),
      worker: await t.loginStaff('worker1'),
      dispatcher: await t.loginStaff('dispatcher1'),
      station: await t.loginStaff('station1'),
      finance: await t.loginStaff('finance1'),
    };
    for (const [method, path, allowed] of ROUTES) {
      expect((await t.call(method, path, {})).status, `${method} ${path} anonymous`).toBe(401);
      for (const [who, token] of Object.entries(tokens)) {
        if (allowed.includes(who)) continue;
        const res = await t.call(method, path, { token, body: method === 'GET' ? undefined : {} });
        expect(res.status, `${method} ${path} as ${who}`).toBe(403);
      }
    }
  });
});

describe('staff dashboard', () => {
  it("gives each role the day's numbers it acts on", async () => {
    const agent = await t.call('GET', '/api/v1/staff/dashboard', { token: await t.loginStaff('agent1') });
    expect(agent.status).toBe(200);
    expect(agent.body).toMatchObject({ payments: null, messages: { unanswered: expect.any(Number) }, serviceChanges: { pendingReview: expect.any(Number) } });
    const finance = await t.call('GET', '/api/v1/staff/dashboard', { token: await t.loginStaff('finance1') });
    expect(finance.body).toMatchObject({ payments: { count: expect.any(Number), sumFen: expect.any(Number) }, repairs: null, messages: null });
    const worker = await t.call('GET', '/api/v1/staff/dashboard', { token: await t.loginStaff('worker1') });
    expect(worker.body.repairs).toMatchObject({ open: expect.any(Number), overdue: expect.any(Number) });
    const all = await t.call('GET', '/api/v1/staff/dashboard', { token: admin });
    expect(all.body.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(all.body.payments && all.body.repairs && all.body.messages && all.body.serviceChanges).toBeTruthy();
    expect((await t.call('GET', '/api/v1/staff/dashboard', { token: await t.loginResident() })).status).toBe(403);
  });
});

describe('staff dashboard charts', () => {
  it("gives payments and repairs opened/closed for the last 7 China dates, only in the caller's areas", async () => {
    const agentToken = await t.loginStaff('agent1');
    const [areaA] = (await t.call('GET', '/api/v1/me', { token: agentToken })).body.areaIds as number[];
    const accA = await t.ds.getRepository(Account).findOneByOrFail({ areaId: areaA! });
    const accB = (await t.ds.getRepository(Account).find({ take: 500 })).find((a) => a.areaId !== areaA)!;
    const fin = await t.call('POST', '/api/v1/admin/staff', {
      token: admin,
      body: { username: 'finance9', name: '片区会计', password: 'secret-2026', roles: ['finance'], areaIds: [areaA] },
    });
    expect(fin.status).toBe(201);
    const financeA = await t.loginStaff('finance9', 'secret-2026');

    const today = chinaDate(new Date());
    const at = (daysAgo: number) => new Date(new Date(`${today}T12:00:00+08:00`).getTime() - daysAgo * 86_400_000);
    const dash = async (token: string) => (await t.call('GET', '/api/v1/staff/dashboard', { token })).body;
    const before = { admin: await dash(admin), finance: await dash(financeA), agent: await dash(agentToken) };

    let n = 0;
    const pay = async (acc: Account, amountFen: number, paidAt: Date, duplicate = false) =>
      t.ds.getRepository(PaymentOrder).insert({
        outTradeNo: `DASH${Date.now()}${n++}`,
        billId: 1,
        accountId: acc.id,
        residentId: 1,
        openid: 'o-dash',
        description: '测试',
        amountFen,
        status: 'paid',
        expiresAt: paidAt,
        paidAt,
        duplicate,
      } as any);
    await pay(accA, 5000, at(0));
    await pay(accA, 5000, at(0), true); // a duplicate payment is refunded: not counted
    await pay(accB, 3000, at(0));
    await pay(accA, 1200, at(2));
    await pay(accA, 9900, at(8)); // before the window

    const ticket = async (acc: Account, createdAt: Date, status: string, closedAt: Date | null) => {
      const res = await t.ds.getRepository(RepairTicket).insert({
        no: `DASH${Date.now()}${n++}`,
        residentId: 1,
        accountId: acc.id,
        areaId: acc.areaId,
        buildingId: 1,
        category: 'other',
        description: '测试',
        photos: [],
        contactPhone: '13900000000',
        status,
        contactDueAt: createdAt,
        doneDueAt: createdAt,
        closedAt,
      } as any);
      await t.ds.getRepository(RepairTicket).update(res.identifiers[0]!.id, { createdAt });
    };
    await ticket(accA, at(2), 'closed', at(0));
    await ticket(accA, at(0), 'cancelled', at(0)); // opened today; cancelling is not closing
    await ticket(accB, at(0), 'pending', null);
    await ticket(accA, at(8), 'closed', at(8));

    const after = { admin: await dash(admin), finance: await dash(financeA), agent: await dash(agentToken) };
    const delta = (a: Record<string, any>[], b: Record<string, any>[], keys: string[]) =>
      b.map((d, i) => ({ date: d.date, ...Object.fromEntries(keys.map((k) => [k, d[k] - a[i]![k]])) }));
    const dates = after.admin.paymentsByDay.map((d: any) => d.date);
    expect(dates).toHaveLength(7);
    expect(dates[6]).toBe(today);
    expect(dates[4]).toBe(chinaDate(at(2)));
    const zeros = (k: Record<string, number>) => dates.map((date: string) => ({ date, ...k }));
    const expectDays = (got: any[], want: Record<number, Record<string, number>>, zero: Record<string, number>) =>
      expect(got).toEqual(zeros(zero).map((d: any, i: number) => ({ ...d, ...(want[i] ?? {}) })));

    expectDays(
      delta(before.admin.paymentsByDay, after.admin.paymentsByDay, ['count', 'sumFen']),
      { 6: { count: 2, sumFen: 8000 }, 4: { count: 1, sumFen: 1200 } },
      { count: 0, sumFen: 0 },
    );
    expectDays(
      delta(before.finance.paymentsByDay, after.finance.paymentsByDay, ['count', 'sumFen']),
      { 6: { count: 1, sumFen: 5000 }, 4: { count: 1, sumFen: 1200 } },
      { count: 0, sumFen: 0 },
    );
    expectDays(
      delta(before.admin.repairsByDay, after.admin.repairsByDay, ['opened', 'closed']),
      { 6: { opened: 2, closed: 1 }, 4: { opened: 1, closed: 0 } },
      { opened: 0, closed: 0 },
    );
    expectDays(
      delta(before.agent.repairsByDay, after.agent.repairsByDay, ['opened', 'closed']),
      { 6: { opened: 1, closed: 1 }, 4: { opened: 1, closed: 0 } },
      { opened: 0, closed: 0 },
    );
    expect(after.agent.paymentsByDay).toBeNull();
    expect(after.finance.repairsByDay).toBeNull();
  });
});

/** GBK bytes for a string, through iconv-free means: the reverse of TextDecoder('gb18030') for the BMP characters we use. */
class TextEncoderGbk {
  private static table: Map<string, number[]> | null = null;
  encode(s: string): Uint8Array {
    const table = TextEncoderGbk.build();
    const out: number[] = [];
    for (const ch of s) {
      const c = ch.codePointAt(0)!;
      if (c < 0x80) out.push(c);
      else {
        const bytes = table.get(ch);
        if (!bytes) throw new Error(`no GBK code for ${ch}`);
        out.push(...bytes);
      }
    }
    return Uint8Array.from(out);
  }
  private static build(): Map<string, number[]> {
    if (this.table) return this.table;
    const dec = new TextDecoder('gbk');
    const m = new Map<string, number[]>();
    for (let a = 0x81; a <= 0xfe; a++)
      for (let b = 0x40; b <= 0xfe; b++) {
        if (b === 0x7f) continue;
        const ch = dec.decode(Uint8Array.from([a, b]));
        if (ch.length === 1 && ch !== '\ufffd' && !m.has(ch)) m.set(ch, [a, b]);
      }
    this.table = m;
    return m;
  }
}
