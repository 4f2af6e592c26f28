/**
 * The inbox's conversations on the real BFF and a real database (MariaDB with TEST_DATABASE_URL):
 * claims decided by one conditional UPDATE under concurrency, message → repair in one
 * transaction (a failure inside the booking leaves the message unlinked and reusable), the first
 * response stored once, and the migration's backfill from claim-per-message rows.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DataSource } from 'typeorm';
import { testAppForFile } from '../../test-support/app-for-file';
import { createTestDatabase, type TestDatabase } from '../../test-support/db';
import { createDataSource } from '../../db';
import { RepairTicket } from '../repairs/entities';
import { Conversation, GroupMessage } from './entities';
import { refuseStampsFromDatabaseClock } from '../../test-support/clock-stamps';

let now = new Date('2026-11-20T02:00:00Z');
const t = testAppForFile({ seedDemo: true, clock: () => now });
const tick = (seconds: number) => (now = new Date(now.getTime() + seconds * 1000));
let agent1: string;

beforeAll(async () => {
  agent1 = await t.loginStaff('agent1');
});

const resident = (building: number) => t.residentOfBuilding(building);
const ask = async (r: { token: string; groupId: number }, text: string) => {
  const res = await t.call('POST', `/api/v1/groups/${r.groupId}/messages`, { token: r.token, body: { text } });
  expect(res.status).toBe(201);
  return res.body.id as number;
};
const conversationOf = async (messageId: number) => {
  const m = await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: messageId });
  return t.ds.getRepository(Conversation).findOneByOrFail({ id: m.conversationId! });
};
let staffSeq = 0;
async function newAgent(areaId: number) {
  const username = `cvagent${++staffSeq}`;
  await t.services.identity.createStaff({ username, name: `客服${staffSeq}号`, password: 'demo-2026', roles: ['agent'], areaIds: [areaId] });
  return t.loginStaff(username);
}

describe('claims', () => {
  it('two agents claiming at once: exactly one wins, the other gets CLAIMED_BY_OTHER — every time', async () => {
    const r = await resident(1);
    const areaId = (await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: await ask(r, '开始') })).areaId;
    const a = await newAgent(areaId);
    const b = await newAgent(areaId);
    for (let round = 0; round < 5; round++) {
      const q = await ask(r, `第${round}个问题`);
      const [x, y] = await Promise.all([a, b].map((token) => t.call('POST', `/api/v1/staff/inbox/${q}/claim`, { token })));
      expect([x.status, y.status].sort()).toEqual([200, 409]);
      const lost = x.status === 409 ? x : y;
      expect(lost.body.error.code).toBe('CLAIMED_BY_OTHER');
      const conv = await conversationOf(q);
      expect(conv.assigneeId).toBe((x.status === 200 ? x : y).body.claimedBy.staffId);
      expect(lost.body.error.details.staffName).toBe((x.status === 200 ? x : y).body.claimedBy.name);
      // the winner answers: the conversation is answered; the next question opens it unclaimed
      const winner = x.status === 200 ? a : b;
      expect((await t.call('POST', `/api/v1/staff/groups/${r.groupId}/messages`, { token: winner, body: { text: '好的', quoteId: q } })).status).toBe(201);
      expect((await conversationOf(q)).status).toBe('answered');
    }
  });

  it('a claim is one row: replying, claiming and booking all go through the same check', async () => {
    const r = await resident(1);
    const q1 = await ask(r, '暖气不热');
    const q2 = await ask(r, '还是不热');
    const areaId = (await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q1 })).areaId;
    const other = await newAgent(areaId);
    expect((await t.call('POST', `/api/v1/staff/inbox/${q1}/claim`, { token: agent1 })).status).toBe(200);
    // no copies on messages: both questions show the conversation's assignee
    const pending = await t.call('GET', `/api/v1/staff/inbox?view=pending&groupId=${r.groupId}`, { token: other });
    const names = pending.body.items.filter((i: any) => [q1, q2].includes(i.message.id)).map((i: any) => i.claimedBy?.name);
    expect(names).toEqual(['李客服', '李客服']);
    for (const res of [
      await t.call('POST', `/api/v1/staff/inbox/${q2}/claim`, { token: other }),
      await t.call('POST', `/api/v1/staff/groups/${r.groupId}/messages`, { token: other, body: { text: '我来', quoteId: q2 } }),
      await t.call('POST', `/api/v1/staff/inbox/${q2}/repair`, { token: other, body: { category: 'no_heat' } }),
    ])
      expect(res.body.error).toMatchObject({ code: 'CLAIMED_BY_OTHER', details: { staffName: '李客服' } });
    expect((await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q2 })).repairTicketId).toBeNull();
  });
});

describe('message → repair in one transaction', () => {
  it('a failure inside the repair booking leaves no ticket and the message unlinked and reusable', async () => {
    const r = await resident(2);
    const q = await ask(r, '卫生间暖气片漏水');
    const tickets = async () => t.ds.getRepository(RepairTicket).count();
    const before = await tickets();
    // the crash: dispatch fails after the ticket row was written in the caller's transaction
    const spy = vi.spyOn(t.services.identity, 'staffOfAreas').mockRejectedValueOnce(new Error('simulated crash inside the booking'));
    const failed = await t.call('POST', `/api/v1/staff/inbox/${q}/repair`, { token: agent1, body: { category: 'leak' } });
    spy.mockRestore();
    expect(failed.status).toBe(500);
    expect(await tickets()).toBe(before);
    const msg = await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q });
    expect(msg.repairTicketId).toBeNull();
    expect(msg.answeredAt).toBeNull();
    // no reply was left in the group either
    const after = await t.ds.getRepository(GroupMessage).count({ where: { quoteId: q } });
    expect(after).toBe(0);
    // and the message can be turned into a ticket now
    const ok = await t.call('POST', `/api/v1/staff/inbox/${q}/repair`, { token: agent1, body: { category: 'leak' } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(await tickets()).toBe(before + 1);
    expect((await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q })).repairTicketId).toBe(ok.body.ticket.id);
    expect((await t.call('POST', `/api/v1/staff/inbox/${q}/repair`, { token: agent1, body: { category: 'leak' } })).body.error.code).toBe(
      'MESSAGE_ALREADY_REPAIR',
    );
  });
});

describe('first response', () => {
  it('is stored once when it happens; metrics read the stored times', async () => {
    tick(86_400);
    const from = now.toISOString();
    const r = await resident(0);
    const q1 = await ask(r, '什么时候来热？');
    tick(75);
    const first = now;
    expect((await t.call('POST', `/api/v1/staff/groups/${r.groupId}/messages`, { token: agent1, body: { text: '今晚', quoteId: q1 } })).status).toBe(201);
    tick(600);
    const q2 = await ask(r, '还没热');
    tick(40);
    expect((await t.call('POST', `/api/v1/staff/groups/${r.groupId}/messages`, { token: agent1, body: { text: '马上', quoteId: q2 } })).status).toBe(201);
    const conv = await conversationOf(q1);
    expect(conv.firstResponseAt?.getTime()).toBe(first.getTime());
    expect(conv.lastMessageAt.getTime()).toBe(now.getTime() - 40_000);
    const rows = await t.ds.getRepository(GroupMessage).findBy([{ id: q1 }, { id: q2 }]);
    expect(rows.map((m) => m.responseSeconds).sort((a, b) => a! - b!)).toEqual([40, 75]);
    // answering again (quoting an answered question) changes nothing stored
    tick(30);
    await t.call('POST', `/api/v1/staff/groups/${r.groupId}/messages`, { token: agent1, body: { text: '补充', quoteId: q1 } });
    expect((await conversationOf(q1)).firstResponseAt?.getTime()).toBe(first.getTime());
    expect((await t.ds.getRepository(GroupMessage).findOneByOrFail({ id: q1 })).responseSeconds).toBe(75);
    // metrics use the stored seconds, not the timestamps
    await t.ds.getRepository(GroupMessage).update({ id: q1 }, { answeredAt: new Date(now.getTime() + 3_600_000) });
    const m = await t.call('GET', `/api/v1/staff/groups/metrics?from=${encodeURIComponent(from)}`, { token: agent1 });
    expect(m.body.perAgent.find((x: any) => x.name === '李客服')).toMatchObject({ answered: 2, medianSeconds: expect.any(Number), p90Seconds: 75 });
  });
});

describe('migration', () => {
  let db: TestDatabase;
  let ds: DataSource;
  afterAll(async () => {
    await ds?.destroy();
    await db?.drop();
  });

  it('backfills conversations, claims, first responses and response times from the messages', async () => {
    db = await createTestDatabase();
    ds = createDataSource({ url: db.url, sqlitePath: ':memory:' });
    await ds.initialize();
    refuseStampsFromDatabaseClock(ds);
    await ds.runMigrations({ transaction: 'each' });
    const q = (s: string) => (ds.options.type === 'better-sqlite3' ? s : s.replace(/"/g, '`'));
    /** undo migrations, newest first, through this one (later migrations may follow it) */
    const undoThrough = async (name: string) => {
      for (;;) {
        const [last] = await ds.query(q('SELECT "name" FROM "schema_migrations" ORDER BY "id" DESC LIMIT 1'));
        await ds.undoLastMigration({ transaction: 'each' });
        if (last.name === name) return;
      }
    };
    await undoThrough('InboxConversations1795860461608'); // back to claims on messages
    const at = (min: number) => new Date(Date.UTC(2026, 10, 20, 2, min)).toISOString().replace('T', ' ').replace('Z', '');
    const rows: [number, number, number, string, number | null, string | null, string | null, number | null][] = [
      // groupId, senderId (resident), id, createdAt, claimedBy, claimedAt, answeredAt, answeredBy
      [1, 10, 1, at(0), 7, at(1), at(2), 7],
      [1, 10, 2, at(5), 8, at(6), null, null], // waiting, claimed by 8
      [1, 11, 3, at(3), 7, at(4), at(4), 7], // answered after 60 s
      [2, 10, 4, at(0), null, null, null, null], // waiting, unclaimed
    ];
    for (const [g, s, id, c, cb, ca, aa, ab] of rows)
      await ds.query(
        q(
          'INSERT INTO "group_message" ("id","groupId","areaId","kind","senderKind","senderId","senderLabel","pinned","claimedBy","claimedAt","answeredAt","answeredBy","createdAt") VALUES (?,?,1,\'text\',\'resident\',?,\'住户\',0,?,?,?,?,?)',
        ),
        [id, g, s, cb, ca, aa, ab, c],
      );
    await ds.runMigrations({ transaction: 'each' });
    const convs = await ds.getRepository(Conversation).find({ order: { groupId: 'ASC', residentId: 'ASC' } });
    expect(convs.map((c) => [c.groupId, c.residentId, c.status, c.assigneeId, c.firstResponseBy])).toEqual([
      [1, 10, 'open', 8, 7],
      [1, 11, 'answered', 7, 7],
      [2, 10, 'open', null, null],
    ]);
    expect(convs[0]!.firstResponseAt?.toISOString()).toBe(new Date(Date.UTC(2026, 10, 20, 2, 2)).toISOString());
    const msgs = await ds.getRepository(GroupMessage).find({ order: { id: 'ASC' } });
    expect(msgs.map((m) => [m.conversationId, m.responseSeconds])).toEqual([
      [convs[0]!.id, 120],
      [convs[0]!.id, null],
      [convs[1]!.id, 60],
      [convs[2]!.id, null],
    ]);
    // and back down: the claims return to the messages
    await undoThrough('InboxConversations1795860461608');
    const back = await ds.query(q('SELECT "id", "claimedBy" FROM "group_message" ORDER BY "id"'));
    expect(back.map((r: any) => [Number(r.id), r.claimedBy === null ? null : Number(r.claimedBy)])).toEqual([
      [1, 7],
      [2, 8],
      [3, 7],
      [4, null],
    ]);
  });
});
