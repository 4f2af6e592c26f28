import { job, type ModuleReactions } from '../../platform/events';
import { REFUND_SUBMIT_TOPIC } from './refunds';
import type { PaymentsService } from './service';

/** What the payments module reacts to (wired once in app.ts): its own outbox jobs; no other module's events. */
export function paymentsReactions(payments: PaymentsService): ModuleReactions {
  return {
    module: 'payments',
    jobs: [job(REFUND_SUBMIT_TOPIC, (p) => payments.submitRefund(p.refundId))],
  };
}
