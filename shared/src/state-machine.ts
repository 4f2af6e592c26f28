/**
 * A state machine is data: for each state, the states it may move to and who may make the move.
 * The server applies moves with one function and refuses the rest with INVALID_TRANSITION.
 */
export interface Transition<S extends string, A extends string = string> {
  from: S;
  to: S;
  /** principals allowed to make this move ('system' for jobs and callbacks) */
  by: readonly A[];
}

export type TransitionTable<S extends string, A extends string = string> = readonly Transition<S, A>[];

export function findTransition<S extends string, A extends string>(table: TransitionTable<S, A>, from: S, to: S): Transition<S, A> | undefined {
  return table.find((t) => t.from === from && t.to === to);
}

export function canTransition<S extends string, A extends string>(table: TransitionTable<S, A>, from: S, to: S, actor: A): boolean {
  const t = findTransition(table, from, to);
  return !!t && t.by.includes(actor);
}

/** Where a state may go next (for UI buttons). */
export function nextStates<S extends string, A extends string>(table: TransitionTable<S, A>, from: S, actor?: A): S[] {
  return table.filter((t) => t.from === from && (actor === undefined || t.by.includes(actor))).map((t) => t.to);
}
