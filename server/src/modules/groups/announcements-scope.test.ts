/**
 * GET /staff/announcements filters by the agent's areas before paging: an agent whose area has
 * few announcements, behind more than a page of another area's, still gets full pages and the
 * right total (it used to page first and filter after: short or empty pages, everyone's total).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => new Date('2026-11-20T02:00:00Z') });
});
afterAll(async () => t?.close());

it("an agent's announcement pages hold only their areas' (and everyone's) announcements, full, with their total", async () => {
  const [agentA, agentB, admin] = [await t.loginStaff('agent1'), await t.loginStaff('agent2'), await t.loginStaff('admin')];
  const buildings = await t.services.accounts.listBuildings(); // demo: 0-2 in area A, 3-5 in area B
  const areaA = buildings[0]!.areaId;
  const areaB = buildings[3]!.areaId;
  const announce = async (token: string, body: Record<string, unknown>) => {
    const res = await t.call('POST', '/api/v1/staff/announcements', { token, body: { type: 'notice', body: '请留意', ...body } });
    expect(res.status).toBe(201);
  };
  await announce(agentB, { scope: 'building', targetId: buildings[4]!.id, title: 'B楼公告' });
  await announce(agentB, { scope: 'area', targetId: areaB, title: 'B片区公告' });
  await announce(admin, { scope: 'all', title: '全体公告' });
  for (let i = 1; i <= 5; i++)
    await announce(
      agentA,
      i % 2 ? { scope: 'area', targetId: areaA, title: `A片区公告${i}` } : { scope: 'building', targetId: buildings[i % 3]!.id, title: `A楼公告${i}` },
    );

  const page = (token: string, n: number, size: number) =>
    t.call('GET', `/api/v1/staff/announcements?page=${n}&pageSize=${size}`, { token }).then((r) => r.body);
  const first = await page(agentB, 1, 2);
  expect(first.items.map((a: any) => a.title)).toEqual(['全体公告', 'B片区公告']);
  expect(first.total).toBe(3);
  expect((await page(agentB, 2, 2)).items.map((a: any) => a.title)).toEqual(['B楼公告']);

  const a = await page(agentA, 1, 5);
  expect(a.items).toHaveLength(5);
  expect(a.items.every((x: any) => x.title.startsWith('A'))).toBe(true);
  expect(a.total).toBe(6);
  expect((await page(admin, 1, 20)).total).toBe(8);
});
