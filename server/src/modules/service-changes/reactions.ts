import { afterCommit, type ModuleReactions } from '../../platform/events';
import type { ServiceChangesService } from './service';

/** What the service-changes module reacts to (wired once in app.ts). */
export function serviceChangesReactions(serviceChanges: ServiceChangesService): ModuleReactions {
  return {
    module: 'service-changes',
    events: [
      // a resume awaiting payment goes to the valve crew once its bill is paid, however it was paid.
      // After commit: 'awaiting_payment' can't be cancelled or changed meanwhile (its only way out
      // is this move), and looking at the application catches up at once (catchUp).
      afterCommit('payment.credited', 'service-changes.resume-paid', (paid) => serviceChanges.moveOnPaidBills(paid.map((p) => p.billId))),
      afterCommit('bill.settled_at_counter', 'service-changes.resume-paid', (settled) => serviceChanges.moveOnPaidBills(settled.map((s) => s.billId))),
    ],
  };
}
