import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO, demoHouseholds } from '../../demo/seed';

let t: TestApp;
let now = new Date('2026-11-24T02:00:00Z');
const households = demoHouseholds();
const [acc0, acc1, acc2] = DEMO.accounts;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => now });
});
afterAll(async () => t?.close());

const bind = (token: string, body: unknown) => t.call('POST', '/api/v1/accounts/bind', { token, body });

describe('binding an account', () => {
  it('binds by owner name, lists it with personal data masked, and unbinds', async () => {
    const token = await t.loginResident();
    const res = await bind(token, { accountNo: acc0.accountNo, ownerName: acc0.ownerName });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ accountNo: acc0.accountNo, relation: 'owner', status: 'active', use: 'residential' });
    expect(res.body.ownerNameMasked).toBe(acc0.ownerName[0] + '*'.repeat(Array.from(acc0.ownerName).length - 1));
    expect(res.body.phoneMasked).toMatch(new RegExp(`^1\\d{2}\\*{4}${acc0.phoneLast4}$`));
    expect(res.body.address).toMatch(/^长春市.+号楼\d单元\d+室$/);
    expect(JSON.stringify(res.body)).not.toContain(acc0.ownerName);

    const list = await t.call('GET', '/api/v1/accounts', { token });
    expect(list.body.max).toBe(10);
    expect(list.body.items.map((a: any) => a.accountNo)).toEqual([acc0.accountNo]);
    expect((await t.call('GET', '/api/v1/me', { token })).body.bindingCount).toBe(1);

    const un = await t.call('DELETE', `/api/v1/accounts/${res.body.accountId}/binding`, { token });
    expect(un.status).toBe(204);
    expect((await t.call('GET', '/api/v1/accounts', { token })).body.items).toEqual([]);
    const again = await t.call('DELETE', `/api/v1/accounts/${res.body.accountId}/binding`, { token });
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('BINDING_NOT_FOUND');
    // binding again after unbinding works
    expect((await bind(token, { accountNo: acc0.accountNo, phoneLast4: acc0.phoneLast4, relation: 'tenant' })).body.relation).toBe('tenant');
  });

  it('accepts the account number with spaces and hyphens, and the name with spaces', async () => {
    const token = await t.loginResident();
    const spaced = acc1.accountNo.slice(0, 4) + ' ' + acc1.accountNo.slice(4, 7) + '-' + acc1.accountNo.slice(7);
    const res = await bind(token, { accountNo: spaced, ownerName: ` ${acc1.ownerName} ` });
    expect(res.status).toBe(201);
    expect(res.body.accountNo).toBe(acc1.accountNo);
  });

  it('refuses to bind the same account twice', async () => {
    const token = await t.loginResident();
    expect((await bind(token, { accountNo: acc2.accountNo, ownerName: acc2.ownerName })).status).toBe(201);
    const dup = await bind(token, { accountNo: acc2.accountNo, ownerName: acc2.ownerName });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ALREADY_BOUND');
  });

  it('refuses a wrong second fact and an unknown account alike, counting attempts left', async () => {
    const token = await t.loginResident();
    const h = households[101];
    const wrongName = await bind(token, { accountNo: h.accountNo, ownerName: '不是户主' });
    expect(wrongName.status).toBe(400);
    expect(wrongName.body.error.code).toBe('BIND_FACT_MISMATCH');
    expect(wrongName.body.error.details.attemptsLeft).toBe(4);
    expect(wrongName.body.error.message).toBe('户号与户主姓名或手机号后四位不一致，请核对缴费单（还可尝试4次）');
    const wrongPhone = await bind(token, { accountNo: h.accountNo, phoneLast4: h.contactPhone.endsWith('0000') ? '1111' : '0000' });
    expect(wrongPhone.body.error.code).toBe('BIND_FACT_MISMATCH');
    // an account number that doesn't exist answers exactly like a wrong fact: no way to learn which exist
    const unknown = await bind(token, { accountNo: '9999999999', ownerName: '张三' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 'BIND_FACT_MISMATCH', details: { attemptsLeft: 2 } });
    expect(unknown.body.error.message).toBe('户号与户主姓名或手机号后四位不一致，请核对缴费单（还可尝试2次）');
  });

  it('locks binding for an hour after 5 failures, saying when to retry and whom to call', async () => {
    const token = await t.loginResident();
    const h = households[102];
    const start = now;
    const hotline = (await t.services.company.info()).hotline;
    for (let i = 0; i < 5; i++) {
      now = new Date(start.getTime() + i * 60_000);
      const res = await bind(token, { accountNo: h.accountNo, ownerName: '错' + i });
      expect(res.body.error.code).toBe('BIND_FACT_MISMATCH');
      if (i === 4) {
        // the last failure says so, instead of "还可尝试0次"
        expect(res.body.error.details.attemptsLeft).toBe(0);
        expect(res.body.error.message).toBe(
          `户号与户主姓名或手机号后四位不一致，请核对缴费单。失败次数已达上限，请在 56 分钟后再试，如需帮助请拨打客服热线 ${hotline}`,
        );
      }
    }
    now = new Date(start.getTime() + 10 * 60_000);
    // even the right facts are refused while locked
    const locked = await bind(token, { accountNo: h.accountNo, ownerName: h.ownerName });
    expect(locked.status).toBe(429);
    expect(locked.body.error.code).toBe('BIND_ATTEMPTS_EXCEEDED');
    expect(locked.body.error.details.retryAfterSeconds).toBe(50 * 60);
    expect(locked.headers.get('retry-after')).toBe(String(50 * 60));
    expect(locked.body.error.message).toBe(`绑定失败次数过多，请在 50 分钟后再试，如需帮助请拨打客服热线 ${hotline}`);
    // an hour after the first failure, one more try is allowed
    now = new Date(start.getTime() + 60 * 60_000 + 1000);
    const ok = await bind(token, { accountNo: h.accountNo, ownerName: h.ownerName });
    expect(ok.status).toBe(201);
    now = start;
  });

  it('allows at most 10 bound accounts', async () => {
    const token = await t.loginResident();
    const eleven = households.slice(20, 31);
    for (const h of eleven.slice(0, 10)) {
      const r = await bind(token, { accountNo: h.accountNo, ownerName: h.ownerName });
      expect(r.status).toBe(201);
    }
    const over = await bind(token, { accountNo: eleven[10].accountNo, ownerName: eleven[10].ownerName });
    expect(over.status).toBe(409);
    expect(over.body.error.code).toBe('BIND_LIMIT_REACHED');
  });

  it('lets exactly one of two simultaneous binds take the 10th place', async () => {
    const token = await t.loginResident();
    const hs = households.slice(40, 51);
    for (const h of hs.slice(0, 9)) expect((await bind(token, { accountNo: h.accountNo, ownerName: h.ownerName })).status).toBe(201);
    const [a, b] = await Promise.all([
      bind(token, { accountNo: hs[9].accountNo, ownerName: hs[9].ownerName }),
      bind(token, { accountNo: hs[10].accountNo, ownerName: hs[10].ownerName }),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect((await t.call('GET', '/api/v1/accounts', { token })).body.items).toHaveLength(10);
  });
});

describe('privacy between residents', () => {
  it('never shows or unbinds another resident’s account (404, not 403)', async () => {
    const alice = await t.loginResident();
    const bob = await t.loginResident();
    const h = households[60];
    const bound = await bind(alice, { accountNo: h.accountNo, ownerName: h.ownerName });
    expect(bound.status).toBe(201);
    const id = bound.body.accountId;
    expect((await t.call('GET', `/api/v1/accounts/${id}`, { token: alice })).status).toBe(200);
    const peek = await t.call('GET', `/api/v1/accounts/${id}`, { token: bob });
    expect(peek.status).toBe(404);
    expect(peek.body.error.code).toBe('NOT_FOUND');
    expect((await t.call('DELETE', `/api/v1/accounts/${id}/binding`, { token: bob })).status).toBe(404);
    expect((await t.call('GET', '/api/v1/accounts', { token: bob })).body.items).toEqual([]);
    // Alice still has it
    expect((await t.call('GET', '/api/v1/accounts', { token: alice })).body.items).toHaveLength(1);
  });
});

describe('bad input', () => {
  it('lists every invalid field at once', async () => {
    const token = await t.loginResident();
    const res = await bind(token, { accountNo: '12', phoneLast4: '12a', relation: 'cousin' });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('VALIDATION_FAILED');
    const fields = res.body.error.details.fields.map((f: any) => f.field).sort();
    expect(fields).toEqual(['accountNo', 'phoneLast4', 'relation']);
    for (const f of res.body.error.details.fields) expect(f.message).toMatch(/[\u4e00-\u9fa5]/);
  });

  it('asks for one of the two facts', async () => {
    const token = await t.loginResident();
    const res = await bind(token, { accountNo: acc0.accountNo });
    expect(res.body.error.details.fields).toEqual([{ field: 'ownerName', message: '请填写户主姓名或手机号后4位' }]);
  });

  it('answers malformed JSON, wrong types, oversized bodies and bad ids with 4xx, never 500', async () => {
    const token = await t.loginResident();
    const malformed = await t.call('POST', '/api/v1/accounts/bind', { token, rawBody: '{"accountNo": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('MALFORMED_JSON');
    const types = await bind(token, { accountNo: 12345678, ownerName: ['x'] });
    expect(types.status).toBe(400);
    expect(types.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['accountNo', 'ownerName']);
    const array = await t.call('POST', '/api/v1/accounts/bind', { token, rawBody: '[1,2]' });
    expect(array.status).toBe(400);
    const huge = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: 'x'.repeat(400_000) } });
    expect(huge.status).toBe(413);
    expect(huge.body.error.code).toBe('PAYLOAD_TOO_LARGE');
    const badId = await t.call('GET', '/api/v1/accounts/abc', { token });
    expect(badId.status).toBe(400);
    expect(badId.body.error.details.fields[0].field).toBe('params.accountId');
    const badPage = await t.call('GET', '/api/v1/staff/accounts?page=0&pageSize=1000', { token: await t.loginStaff('admin') });
    expect(badPage.body.error.details.fields.map((f: any) => f.field).sort()).toEqual(['query.page', 'query.pageSize']);
    const route = await t.call('GET', '/api/v1/nowhere', { token });
    expect(route.status).toBe(404);
    expect(route.body.error.code).toBe('ROUTE_NOT_FOUND');
    // a known path with a method it doesn't take: 405 with what it does take, in the error shape
    const method = await t.call('DELETE', '/api/v1/bills', { token });
    expect(method.status).toBe(405);
    expect(method.body.error).toMatchObject({ code: 'METHOD_NOT_ALLOWED', message: '不支持的请求方式' });
    expect(method.headers.get('allow')).toBe('HEAD, GET');
    const unknown = await t.call('PROPFIND', '/api/v1/bills', { token });
    expect(unknown.status).toBe(405);
    expect(unknown.body.error.code).toBe('METHOD_NOT_ALLOWED');
  });
});
