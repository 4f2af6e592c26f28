import type { EntityManager } from 'typeorm';
import { findTransition, type TransitionTable } from '@heat-butler/shared';
import { AppError } from './errors';
import { StateTransition } from './entities';
import { insertRow, insertRows } from './db/data-source';

export interface Actor {
  kind: 'resident' | 'staff' | 'system';
  id: number | null;
  /** the principal names this actor acts as: 'resident', staff roles, or 'system' */
  as: readonly string[];
}

export const SYSTEM: Actor = { kind: 'system', id: null, as: ['system'] };

/**
 * The one way to move a state machine: checks the move against the table and the actor's
 * principals, records it (who, when, from, to, why), and sets the new state on the entity.
 * The caller saves the entity in the same transaction.
 */
export async function applyTransition<S extends string>(
  em: EntityManager,
  table: TransitionTable<S, string>,
  subject: { type: string; id: number; state: S },
  to: S,
  actor: Actor,
  reason?: string | null,
  data?: Record<string, unknown>,
): Promise<void> {
  const t = findTransition(table, subject.state, to);
  if (!t || !actor.as.some((a) => (t.by as readonly string[]).includes(a))) {
    throw new AppError('INVALID_TRANSITION', { from: subject.state, to });
  }
  await recordTransition(em, subject.type, subject.id, subject.state, to, actor, reason, data);
}

/** Record a move without a table check (creation: from = null). */
export async function recordTransition(
  em: EntityManager,
  subjectType: string,
  subjectId: number,
  from: string | null,
  to: string,
  actor: Actor,
  reason?: string | null,
  data?: Record<string, unknown>,
): Promise<void> {
  await insertRow(em, StateTransition, {
    subjectType,
    subjectId,
    fromState: from,
    toState: to,
    actorKind: actor.kind,
    actorId: actor.id,
    reason: reason ?? null,
    data: (data ?? null) as any,
  });
}

export async function timeline(em: EntityManager, subjectType: string, subjectId: number) {
  return em.find(StateTransition, { where: { subjectType, subjectId }, order: { id: 'ASC' } });
}

/** applyTransition for many subjects moving to the same state at once: checked one by one, recorded in one INSERT. */
export async function applyTransitions<S extends string>(
  em: EntityManager,
  table: TransitionTable<S, string>,
  subjects: { type: string; id: number; state: S; reason?: string | null; data?: Record<string, unknown> }[],
  to: S,
  actor: Actor,
): Promise<void> {
  for (const s of subjects) {
    const t = findTransition(table, s.state, to);
    if (!t || !actor.as.some((a) => (t.by as readonly string[]).includes(a))) throw new AppError('INVALID_TRANSITION', { from: s.state, to });
  }
  await insertRows(
    em,
    StateTransition,
    subjects.map((s) => ({
      subjectType: s.type,
      subjectId: s.id,
      fromState: s.state,
      toState: to,
      actorKind: actor.kind,
      actorId: actor.id,
      reason: s.reason ?? null,
      data: (s.data ?? null) as any,
    })),
  );
}
