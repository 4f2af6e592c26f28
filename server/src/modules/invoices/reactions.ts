import { afterCommit, job, type ModuleReactions } from '../../platform/events';
import { INVOICE_POLL, INVOICE_RECONCILE, INVOICE_SUBMIT } from './issuing';
import type { InvoicesService } from './service';

/** What the invoices module reacts to (wired once in app.ts): payments' events and its own jobs. */
export function invoicesReactions(invoices: InvoicesService): ModuleReactions {
  const issuing = invoices.issuing;
  return {
    module: 'invoices',
    events: [
      // after payment: automatically, when the payer keeps a default title
      afterCommit('payment.credited', 'invoices.auto-issue', (credited) => issuing.autoIssue(credited)),
      // after a refund: reverse and re-issue so the invoice matches what was kept
      afterCommit('refund.succeeded', 'invoices.after-refund', async (refunds) => {
        for (const orderId of new Set(refunds.map((r) => r.orderId))) await issuing.reconcileOrder(orderId);
      }),
    ],
    jobs: [
      job(INVOICE_SUBMIT, (p) => issuing.submit(p.invoiceId)),
      job(INVOICE_POLL, (p) => issuing.poll(p.invoiceId, p.n ?? 1)),
      job(INVOICE_RECONCILE, (p) => issuing.reconcileOrder(p.orderId)),
    ],
  };
}
