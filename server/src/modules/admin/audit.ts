import type { EntityManager } from 'typeorm';
import { insertRow } from '../../platform/db/data-source';
import { AuditLog } from './entities';

/** Who did an admin action: a staff member, or the command line. */
export interface AdminActor {
  staffId: number | null;
  name: string;
}

export const CLI_ACTOR: AdminActor = { staffId: null, name: '命令行' };

/** Record an admin action inside the transaction that makes the change. */
export async function audit(
  em: EntityManager,
  at: Date,
  actor: AdminActor,
  action: string,
  target: { type: string; id?: string | number | null },
  before: unknown,
  after: unknown,
): Promise<void> {
  await insertRow(em, AuditLog, {
    at,
    actorId: actor.staffId,
    actorName: actor.name.slice(0, 32),
    action,
    targetType: target.type,
    targetId: target.id === undefined || target.id === null ? null : String(target.id),
    before: (before ?? null) as any,
    after: (after ?? null) as any,
  });
}
