/**
 * Stop/resume review (issue 17, item 7): a reviewer sees, beside the ID photo, the owner's name
 * on the account and who applied with their relation to it (户主本人 / 家属 / 租户); residents'
 * own views carry none of it.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';

let t: TestApp;
// before the 2026—2027 deadline (Sept 20, China time): applications are open
const now = new Date('2026-09-10T02:00:00Z');
beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => now });
});
afterAll(async () => t?.close());

async function apply(h: { accountNo: string; ownerName: string }, relation: 'owner' | 'family' | 'tenant') {
  const token = await t.loginResident('rf-' + crypto.randomUUID().slice(0, 8));
  const bound = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: h.accountNo, ownerName: h.ownerName, relation } });
  expect(bound.status).toBe(201);
  const up = await t.upload(token, 'id_document');
  const res = await t.call('POST', '/api/v1/service-changes', {
    token,
    body: { accountId: bound.body.accountId, season: '2026-2027', kind: 'stop', documents: [{ kind: 'id_photo', url: up.body.id }] },
  });
  expect(res.status).toBe(201);
  return { token, id: res.body.id as number, accountId: bound.body.accountId as number };
}

it('the reviewer sees the owner’s name and the applicant with their relation; the resident’s view has no review facts', async () => {
  const agent = await t.loginStaff('agent1');
  const family = await apply(DEMO.accounts[0]!, 'family');
  const owner = await apply(DEMO.accounts[1]!, 'owner');

  const f = await t.call('GET', `/api/v1/staff/service-changes/${family.id}`, { token: agent });
  expect(f.status).toBe(200);
  expect(f.body.review).toEqual({ ownerName: DEMO.accounts[0]!.ownerName, applicant: { kind: 'resident', relation: 'family', label: '家属', unbound: false } });
  expect(f.body.documents[0].url).toBeTruthy();
  const o = await t.call('GET', `/api/v1/staff/service-changes/${owner.id}`, { token: agent });
  expect(o.body.review).toMatchObject({ ownerName: DEMO.accounts[1]!.ownerName, applicant: { relation: 'owner', label: '户主本人' } });

  // the review list carries the same facts
  const list = await t.call('GET', '/api/v1/staff/service-changes?state=submitted&pageSize=50', { token: agent });
  expect(list.body.items.find((a: any) => a.id === family.id).review.applicant.label).toBe('家属');

  // the resident's own view: no owner name in full, no review block
  const mine = await t.call('GET', `/api/v1/service-changes/${family.id}`, { token: family.token });
  expect(mine.body.review).toBeNull();
  expect(JSON.stringify(mine.body)).not.toContain(DEMO.accounts[0]!.ownerName);

  // unbound since applying: still named, marked
  expect((await t.call('DELETE', `/api/v1/accounts/${family.accountId}/binding`, { token: family.token })).status).toBeLessThan(300);
  const after = await t.call('GET', `/api/v1/staff/service-changes/${family.id}`, { token: agent });
  expect(after.body.review.applicant).toMatchObject({ relation: 'family', unbound: true });
});
