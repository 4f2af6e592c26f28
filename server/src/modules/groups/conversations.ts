/**
 * The inbox's conversations (resident × group): who handles it (the claim), whether a question
 * waits, and the first response, stored when it happens. Every claim — by the claim button, by a
 * reply, by turning a message into a repair — is decided by one conditional UPDATE in `take()`.
 */
import { In, type DataSource, type EntityManager } from 'typeorm';
import { AppError } from '../../platform/errors';
import { Conversation, GroupMessage } from './entities';

/** A claim nobody acted on for this long may be taken over by another agent. */
export const CLAIM_TTL_MS = 15 * 60 * 1000;

/**
 * Before a resident's message is stored: their conversation exists. Its own statement, committed
 * before the message's transaction starts, so messages posted at once never race to create it (in
 * one transaction each, an insert racing a locking read deadlocks on MariaDB).
 */
export async function ensureConversation(ds: DataSource, g: { groupId: number; areaId: number }, residentId: number, now: Date): Promise<void> {
  if (await ds.getRepository(Conversation).exists({ where: { groupId: g.groupId, residentId } })) return;
  await ds
    .createQueryBuilder()
    .insert()
    .into(Conversation)
    .values({
      groupId: g.groupId,
      residentId,
      areaId: g.areaId,
      status: 'open',
      assigneeId: null,
      assignedAt: null,
      firstResponseAt: null,
      firstResponseBy: null,
      lastMessageAt: now,
      createdAt: now,
    })
    .orIgnore()
    .execute();
}

/**
 * A resident wrote in a group (ensureConversation ran first): its last message time moves on, and an
 * answered conversation opens again, unclaimed (the new question is anyone's, as before).
 */
export async function touchConversation(em: EntityManager, g: { groupId: number; areaId: number }, residentId: number, now: Date): Promise<number> {
  const row = await em.getRepository(Conversation).findOneOrFail({ where: { groupId: g.groupId, residentId }, select: { id: true } });
  await em
    .createQueryBuilder()
    .update(Conversation)
    .set({ status: 'open', assigneeId: null, assignedAt: null })
    .where('id = :id AND status = :answered', { id: row.id, answered: 'answered' })
    .execute();
  await em.createQueryBuilder().update(Conversation).set({ lastMessageAt: now }).where('id = :id AND lastMessageAt < :now', { id: row.id, now }).execute();
  return row.id;
}

/**
 * Claim the conversation for `staffId`: ONE conditional UPDATE decides (unclaimed, already mine,
 * or a stale claim). Losing it answers CLAIMED_BY_OTHER with the owner's name.
 */
export async function takeConversation(
  em: EntityManager,
  conversationId: number,
  staffId: number,
  now: Date,
  staffName: (id: number) => Promise<string>,
): Promise<void> {
  const res = await em
    .createQueryBuilder()
    .update(Conversation)
    .set({ assigneeId: staffId, assignedAt: now })
    .where('id = :id', { id: conversationId })
    .andWhere('(assigneeId IS NULL OR assigneeId = :me OR assignedAt < :stale)', { me: staffId, stale: new Date(now.getTime() - CLAIM_TTL_MS) })
    .execute();
  if (res.affected) return;
  const current = await em.getRepository(Conversation).findOne({ where: { id: conversationId }, select: { id: true, assigneeId: true } });
  throw new AppError('CLAIMED_BY_OTHER', { staffName: current?.assigneeId ? await staffName(current.assigneeId) : '' });
}

/** Give a claim back (only one's own). */
export async function releaseConversation(em: EntityManager, conversationId: number, staffId: number): Promise<void> {
  await em
    .createQueryBuilder()
    .update(Conversation)
    .set({ assigneeId: null, assignedAt: null })
    .where('id = :id AND assigneeId = :me AND status = :open', { id: conversationId, me: staffId, open: 'open' })
    .execute();
}

/**
 * A staff reply answered some questions: each stores its own response time once, the
 * conversation its first response once, and it is answered when no visible question waits.
 */
export async function recordAnswer(em: EntityManager, conversationId: number, questions: GroupMessage[], staffId: number, now: Date): Promise<number[]> {
  const answered: number[] = [];
  for (const q of questions) {
    const seconds = Math.max(0, Math.round((now.getTime() - q.createdAt.getTime()) / 1000));
    const res = await em
      .createQueryBuilder()
      .update(GroupMessage)
      .set({ answeredAt: now, answeredBy: staffId, responseSeconds: seconds })
      .where('id = :id AND answeredAt IS NULL', { id: q.id })
      .execute();
    if (res.affected) answered.push(q.id);
  }
  if (answered.length) {
    await em
      .createQueryBuilder()
      .update(Conversation)
      .set({ firstResponseAt: now, firstResponseBy: staffId })
      .where('id = :id AND firstResponseAt IS NULL', { id: conversationId })
      .execute();
  }
  await settleConversation(em, conversationId);
  return answered;
}

/** answered once no visible question of the conversation waits (after an answer or a hide). */
export async function settleConversation(em: EntityManager, conversationId: number): Promise<void> {
  const waiting = await em
    .getRepository(GroupMessage)
    .createQueryBuilder('m')
    .where('m.conversationId = :c AND m.answeredAt IS NULL AND m.hiddenAt IS NULL', { c: conversationId })
    .getCount();
  if (!waiting) await em.update(Conversation, { id: conversationId, status: 'open' }, { status: 'answered' });
}

export async function conversationsByIds(em: EntityManager, ids: number[]): Promise<Map<number, Conversation>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  return new Map((await em.getRepository(Conversation).find({ where: { id: In(unique) } })).map((c) => [c.id, c]));
}
