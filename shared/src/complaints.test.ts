import { describe, expect, it } from 'vitest';
import { CompanyRules } from './company';
import { COMPLAINT_TRANSITIONS, complaintCallbackDueAt, complaintCloseDueAt, isComplaintOverdue, owedComplaintDeadline } from './complaints';
import { canTransition } from './state-machine';

const at = new Date('2026-12-01T01:00:00Z');
const H = 3_600_000;

describe('complaint clocks', () => {
  it('Changchun 000 by default: close in 24 h, 72 h with the resident’s agreement, callback in 24 h', () => {
    const rules = CompanyRules.parse({});
    expect(rules.complaints).toEqual({ closeHours: 24, agreedCloseHours: 72, callbackHours: 24 });
    expect(complaintCloseDueAt(at, rules, false).getTime() - at.getTime()).toBe(24 * H);
    expect(complaintCloseDueAt(at, rules, true).getTime() - at.getTime()).toBe(72 * H);
    expect(complaintCallbackDueAt(at, rules).getTime() - at.getTime()).toBe(24 * H);
  });

  it('Harbin 003 as settings: at most 48 h; an agreed deadline shorter than the normal one is refused', () => {
    const rules = CompanyRules.parse({ complaints: { agreedCloseHours: 48 } });
    expect(complaintCloseDueAt(at, rules, true).getTime() - at.getTime()).toBe(48 * H);
    expect(CompanyRules.safeParse({ complaints: { closeHours: 24, agreedCloseHours: 12 } }).success).toBe(false);
  });

  it('owes the close deadline while open, the callback once resolved, nothing when closed', () => {
    const closeDueAt = new Date(at.getTime() + 24 * H);
    const callbackDueAt = new Date(at.getTime() + 30 * H);
    expect(owedComplaintDeadline({ status: 'processing', closeDueAt, callbackDueAt: null })).toEqual({ kind: 'close', dueAt: closeDueAt });
    expect(owedComplaintDeadline({ status: 'resolved', closeDueAt, callbackDueAt })).toEqual({ kind: 'callback', dueAt: callbackDueAt });
    expect(owedComplaintDeadline({ status: 'closed', closeDueAt, callbackDueAt })).toBeNull();
    expect(isComplaintOverdue({ status: 'open', closeDueAt, callbackDueAt: null }, new Date(closeDueAt.getTime() + 1))).toBe(true);
    expect(isComplaintOverdue({ status: 'resolved', closeDueAt, callbackDueAt }, new Date(closeDueAt.getTime() + 1))).toBe(false);
  });

  it('the transition table: residents move nothing; only agents and admins call back', () => {
    expect(canTransition(COMPLAINT_TRANSITIONS, 'open', 'processing', 'butler')).toBe(true);
    expect(canTransition(COMPLAINT_TRANSITIONS, 'open', 'processing', 'resident')).toBe(false);
    expect(canTransition(COMPLAINT_TRANSITIONS, 'resolved', 'closed', 'butler')).toBe(false);
    expect(canTransition(COMPLAINT_TRANSITIONS, 'resolved', 'closed', 'agent')).toBe(true);
    expect(canTransition(COMPLAINT_TRANSITIONS, 'open', 'closed', 'admin')).toBe(false);
  });
});
