import type { EntityManager } from 'typeorm';
import { RepairsCore } from './core';

/** An escalation of another module's ticket (a complaint), told to staff like a repair's. */
export interface ForeignEscalation {
  /** 'complaint': the notice's ticketId is then the complaint's id */
  kind: 'complaint';
  subjectId: number;
  areaId: number;
  /** 1: the area's supervisors (dispatchers), 2: the department head (admins) */
  level: 1 | 2;
  text: string;
  /** dedupe: one notice per staff member and key */
  key: string;
}

/** The staff inbox ("升级提醒" on the repairs page) for escalations of other ticket types. */
export class RepairNotices extends RepairsCore {
  async escalate(em: EntityManager, e: ForeignEscalation, now: Date): Promise<void> {
    const to = e.level >= 2 ? await this.admins(em) : await this.staffOfArea(em, e.areaId, ['dispatcher']);
    await this.staffNotice(
      em,
      to.map((s) => s.id),
      e.subjectId,
      e.kind,
      `【${e.level >= 2 ? '部门负责人' : '主管'}】${e.text}`,
      `${e.kind}:${e.subjectId}:${e.key}`,
      now,
    );
  }
}
