import type { EntityManager } from 'typeorm';
import { enqueueAll, outboxTopic, type OutboxHandler, type OutboxItem, type OutboxTopic, type OutboxWorker } from './outbox';

// ---- the catalogue ------------------------------------------------------------------------------
//
// Every domain event: who emits it, inside which transaction, and the facts it carries. Payloads
// are plain ids and numbers (never entities): an after-commit reaction gets them back from the
// outbox as JSON and reads anything else it needs from the owner's service.
//
//   event                     emitted by (inside the transaction of …)          reacted to by
//   payment.credited          payments (crediting: notify, query, sweep, recon)  invoices (auto-issue), service-changes (resume → valve order)
//   refund.succeeded          payments (recording a successful refund)           invoices (red reversal and re-issue)
//   bill.settled_at_counter   billing (settling a bill at the counter)           service-changes (resume → valve order)
//   binding.changed           accounts (bind / unbind)                           groups (membership, IN the transaction: see below)
//   building.created          accounts (createBuilding, household import)        groups (the building's group)
//   photo.checked             moderation (recording WeChat's verdict on a photo,  groups (publish, flag or hide the message),
//                               or that WeChat could not check it)                repairs (take a risky photo off the ticket)
//
// Reactions run AFTER COMMIT by default: the emitter's transaction only inserts one outbox row per
// reacting module, and the outbox worker runs the reaction afterwards with retries (backoff, then
// "dead" with the error). So no reacting module can fail, slow down or roll back the emitter: an
// invoicing bug never fails a WeChat Pay notification. Reactions are re-runnable (the outbox may
// repeat one after a crash) and take a batch (one crediting transaction credits many orders).
//
// A reaction that must be atomic with the event runs IN the emitter's transaction instead; each
// one is listed in IN_TRANSACTION below with the reason, and the bus refuses any other.

/**
 * Bills paid by credited orders: one item per bill an order settled (one for an ordinary order,
 * one per bill for 一键缴清; bills paid twice are refunded, not reported).
 */
export interface PaymentCredited {
  orderId: number;
  billId: number;
  accountId: number;
  residentId: number;
}

/** A refund WeChat confirmed; the ledger entry and the order's refundedFen are written. */
export interface RefundSucceeded {
  refundId: number;
  orderId: number;
  outRefundNo: string;
  amountFen: number;
}

/** A bill settled at the company's counter (or by an import), not by WeChat Pay. */
export interface BillSettledAtCounter {
  billId: number;
  accountId: number;
}

/** A resident bound to (bound: true) or unbound from an account. */
export interface BindingChanged {
  residentId: number;
  accountId: number;
  buildingId: number;
  bound: boolean;
}

/** A building created (admin, demo seed, household import). */
export interface BuildingCreated {
  buildingId: number;
  areaId: number;
}

/**
 * WeChat's verdict on a resident's photo (mediaCheckAsync's push), or `error` when WeChat could not
 * check it; the subject that published the photo shows it (pass/review/error) or removes it (risky).
 */
export interface PhotoChecked {
  /** the publishing module's subject: 'group_message', 'repair' */
  subjectType: string;
  subjectId: number;
  /** the photo as the subject holds it (an upload key or a URL) */
  photo: string;
  verdict: 'pass' | 'review' | 'risky' | 'error';
  /** the moderation trail's record */
  recordId: number;
}

export interface DomainEvents {
  'payment.credited': PaymentCredited;
  'refund.succeeded': RefundSucceeded;
  'bill.settled_at_counter': BillSettledAtCounter;
  'binding.changed': BindingChanged;
  'building.created': BuildingCreated;
  'photo.checked': PhotoChecked;
}

export type EventName = keyof DomainEvents;

/**
 * The only reactions that run inside the emitter's transaction, and why each must. Everything
 * else runs after commit through the outbox.
 */
export const IN_TRANSACTION = {
  'groups.membership': {
    event: 'binding.changed',
    why:
      "Group membership is the right to read a building's chat. An unbind must take it away in the same " +
      'commit (no window in which a former resident still reads and gets pushed messages), and a bind ' +
      'answers with the group the resident has just joined.',
  },
} as const satisfies Record<string, { event: EventName; why: string }>;

export type InTransactionName = keyof typeof IN_TRANSACTION;

// ---- reactions ------------------------------------------------------------------------------------

/** Runs after the emitter's commit, from the outbox (retried on failure). */
export interface AfterCommitReaction<E extends EventName> {
  kind: 'after-commit';
  event: E;
  /** `<module>.<what>`; with the event it names the outbox topic (`<event>><name>`, unique) */
  name: string;
  run: (events: readonly DomainEvents[E][]) => Promise<void>;
}

/** Runs inside the emitter's transaction: only the ones listed in IN_TRANSACTION. */
export interface InTransactionReaction<E extends EventName> {
  kind: 'in-transaction';
  event: E;
  name: InTransactionName;
  run: (em: EntityManager, events: readonly DomainEvents[E][]) => Promise<void>;
}

export type Reaction = { [E in EventName]: AfterCommitReaction<E> | InTransactionReaction<E> }[EventName];

export function afterCommit<E extends EventName>(event: E, name: string, run: (events: readonly DomainEvents[E][]) => Promise<void>): Reaction {
  return { kind: 'after-commit', event, name, run } as AfterCommitReaction<E> as unknown as Reaction;
}

export function inTransaction<N extends InTransactionName>(
  name: N,
  run: (em: EntityManager, events: readonly DomainEvents[(typeof IN_TRANSACTION)[N]['event']][]) => Promise<void>,
): Reaction {
  return { kind: 'in-transaction', event: IN_TRANSACTION[name].event, name, run } as Reaction;
}

/** A module's own outbox job (e.g. submit an invoice): its topic and handler. */
export interface Job {
  topic: string;
  register(outbox: OutboxWorker): void;
}

export function job<P extends object>(topic: OutboxTopic<P>, handler: OutboxHandler<P>): Job {
  return { topic: topic.name, register: (outbox) => outbox.register(topic, handler) };
}

/** Everything a module reacts to, in one place (`modules/<m>/reactions.ts`). */
export interface ModuleReactions {
  module: string;
  events?: readonly Reaction[];
  jobs?: readonly Job[];
}

/** What emitting modules are given (constructor injection). */
export interface Events {
  /** `also`: outbox rows of the emitter's own, written in the same INSERT as the reactions' */
  emit<E extends EventName>(em: EntityManager, event: E, payloads: readonly DomainEvents[E][], also?: readonly OutboxItem[]): Promise<void>;
}

/** an after-commit reaction's outbox row: a batch of one event's payloads */
interface EventRow {
  events: unknown[];
}

/** after-commit rows hold at most this many payloads (the payload column is a TEXT) */
const ROW_BATCH = 200;
/** a reaction is retried for hours (backoff up to 1 h) before its row is dead */
const REACTION_ATTEMPTS = 12;

/**
 * Delivers events to the reactions the modules declare. `wire` is called once, in app.ts, with
 * every module's reactions; emitting before that is an error (never a silently lost reaction), and
 * the order in which modules are listed doesn't matter.
 */
export class EventBus implements Events {
  private inTx = new Map<EventName, InTransactionReaction<EventName>[]>();
  private after = new Map<EventName, OutboxTopic<EventRow>[]>();
  private wired = false;

  constructor(
    private outbox: OutboxWorker,
    private clock: () => Date,
  ) {}

  wire(modules: readonly ModuleReactions[]): void {
    if (this.wired) throw new Error('EventBus.wire: already wired');
    const names = new Set<string>();
    for (const m of modules) {
      for (const j of m.jobs ?? []) j.register(this.outbox);
      for (const r of m.events ?? []) {
        const key = eventTopic(r.event, r.name);
        if (names.has(key)) throw new Error(`reaction ${r.name} to ${r.event} declared twice`);
        names.add(key);
        if (r.kind === 'in-transaction') {
          const allowed = (IN_TRANSACTION as Record<string, { event: EventName }>)[r.name];
          if (allowed?.event !== r.event) throw new Error(`reaction ${r.name} may not run inside the ${r.event} transaction (see IN_TRANSACTION)`);
          this.list(this.inTx, r.event).push(r as InTransactionReaction<EventName>);
        } else {
          const topic = outboxTopic<EventRow>(eventTopic(r.event, r.name));
          const run = r.run as (events: readonly unknown[]) => Promise<void>;
          this.outbox.register(topic, (row) => run(row.events));
          this.list(this.after, r.event).push(topic);
        }
      }
    }
    this.wired = true;
  }

  /**
   * Inside the emitter's transaction: runs the in-transaction reactions and queues one outbox row
   * per after-commit reaction (committed or rolled back with the emitter's own changes).
   */
  async emit<E extends EventName>(em: EntityManager, event: E, payloads: readonly DomainEvents[E][], also: readonly OutboxItem[] = []): Promise<void> {
    if (!this.wired) throw new Error(`event ${event} emitted before the reactions were wired (app.ts)`);
    // every reaction's rows in one INSERT, with the emitter's own rows (`also`: e.g. the resident's message)
    const rows: OutboxItem[] = [...also];
    if (payloads.length) {
      for (const r of this.inTx.get(event) ?? []) await r.run(em, payloads);
      for (const topic of this.after.get(event) ?? []) {
        for (let i = 0; i < payloads.length; i += ROW_BATCH)
          rows.push({ topic, payload: { events: payloads.slice(i, i + ROW_BATCH) }, maxAttempts: REACTION_ATTEMPTS });
      }
    }
    await enqueueAll(em, rows, this.clock());
  }

  /** Who reacts to what (diagnostics, tests). */
  reactions(): { event: EventName; name: string; kind: 'in-transaction' | 'after-commit' }[] {
    return [
      ...[...this.inTx].flatMap(([event, rs]) => rs.map((r) => ({ event, name: r.name as string, kind: 'in-transaction' as const }))),
      ...[...this.after].flatMap(([event, ts]) => ts.map((t) => ({ event, name: t.name.slice(event.length + 1), kind: 'after-commit' as const }))),
    ];
  }

  private list<T>(map: Map<EventName, T[]>, event: EventName): T[] {
    let l = map.get(event);
    if (!l) map.set(event, (l = []));
    return l;
  }
}

/** The outbox topic of an after-commit reaction: `<event>><reaction>`. */
export function eventTopic(event: EventName, reaction: string): string {
  return `${event}>${reaction}`;
}
