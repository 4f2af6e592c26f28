/**
 * Prometheus metrics (prom-client), one registry per process, served at GET /metrics to a scraper
 * that presents METRICS_TOKEN (app.ts; unset = 404). Modules record with one line each through
 * the helpers below; what needs the database (outbox depth and age) is read at scrape time
 * through a probe the host installs. Each instance is scraped on its own (its address, not the
 * load balancer's): counters are per process, Prometheus sums them.
 */
import client from 'prom-client';

export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry, prefix: 'hb_' });

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const httpRequests = new client.Counter({
  name: 'hb_http_requests_total',
  help: 'HTTP requests answered, by method, route template and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: [registry],
});
export const httpDuration = new client.Histogram({
  name: 'hb_http_request_duration_seconds',
  help: 'HTTP request latency by method and route template',
  labelNames: ['method', 'route'] as const,
  buckets: SECONDS,
  registers: [registry],
});

const payNotifications = new client.Counter({
  name: 'hb_wxpay_notifications_total',
  help: 'WeChat Pay notifications received, by outcome (applied, rejected = bad signature, failed = not recorded, WeChat retries)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
export const payNotification = (outcome: 'applied' | 'rejected' | 'failed') => payNotifications.inc({ outcome });

const jobRuns = new client.Counter({
  name: 'hb_job_runs_total',
  help: 'Scheduled job runs on this instance, by job and outcome (ok, failed)',
  labelNames: ['job', 'outcome'] as const,
  registers: [registry],
});
const jobDuration = new client.Histogram({
  name: 'hb_job_duration_seconds',
  help: 'Scheduled job run time',
  labelNames: ['job'] as const,
  buckets: [0.01, 0.1, 0.5, 1, 5, 15, 60, 300, 900],
  registers: [registry],
});
export function jobRun(job: string, ok: boolean, seconds: number): void {
  jobRuns.inc({ job, outcome: ok ? 'ok' : 'failed' });
  jobDuration.observe({ job }, seconds);
}

const outboxProcessed = new client.Counter({
  name: 'hb_outbox_processed_total',
  help: 'Outbox messages processed on this instance, by topic and outcome (done, retry, dead)',
  labelNames: ['topic', 'outcome'] as const,
  registers: [registry],
});
export const outboxOutcome = (topic: string, outcome: 'done' | 'retry' | 'dead') => outboxProcessed.inc({ topic, outcome });

/** Outbox depth and age, read from the database at scrape time (installed by the host). */
let outboxProbe: (() => Promise<{ pending: number; dead: number; oldestPendingSeconds: number }>) | null = null;
export function setOutboxProbe(fn: typeof outboxProbe): void {
  outboxProbe = fn;
}
let probed: Promise<{ pending: number; dead: number; oldestPendingSeconds: number } | null> | null = null;
/** one probe per scrape for the three gauges */
const probe = () => (probed ??= (outboxProbe ? outboxProbe() : Promise.resolve(null)).catch(() => null).finally(() => setTimeout(() => (probed = null), 0)));
new client.Gauge({
  name: 'hb_outbox_pending',
  help: 'Outbox messages waiting to be processed (all instances: read from the database)',
  registers: [registry],
  async collect() {
    const p = await probe();
    if (p) this.set(p.pending);
  },
});
new client.Gauge({
  name: 'hb_outbox_dead',
  help: 'Outbox messages given up on (all instances)',
  registers: [registry],
  async collect() {
    const p = await probe();
    if (p) this.set(p.dead);
  },
});
new client.Gauge({
  name: 'hb_outbox_oldest_pending_age_seconds',
  help: 'Age of the oldest pending outbox message due now (0 = none)',
  registers: [registry],
  async collect() {
    const p = await probe();
    if (p) this.set(p.oldestPendingSeconds);
  },
});

export const wsConnections = new client.Gauge({
  name: 'hb_ws_connections',
  help: 'Open realtime WebSocket connections on this instance',
  registers: [registry],
});

const reconRuns = new client.Counter({
  name: 'hb_reconciliation_runs_total',
  help: 'Reconciliation runs by result (balanced, differences)',
  labelNames: ['status'] as const,
  registers: [registry],
});
const reconClasses = new client.Gauge({
  name: 'hb_reconciliation_discrepancies',
  help: 'Discrepancies of the last reconciled day, by bill date and class',
  labelNames: ['bill_date', 'class'] as const,
  registers: [registry],
});
let reconDays: string[] = [];
/** A reconciled day: its result and its discrepancy counts by class (the newest 7 days are kept). */
export function reconciliationResult(billDate: string, status: string, classes: Record<string, number>): void {
  reconRuns.inc({ status });
  for (const [c, n] of Object.entries(classes)) reconClasses.set({ bill_date: billDate, class: c }, n);
  reconDays = [...reconDays.filter((d) => d !== billDate), billDate];
  while (reconDays.length > 7) {
    const old = reconDays.shift()!;
    for (const c of Object.keys(classes)) reconClasses.remove({ bill_date: old, class: c });
  }
}

const invoiceIssue = new client.Histogram({
  name: 'hb_invoice_issue_seconds',
  help: 'From an invoice requested to issued by the provider',
  buckets: [1, 5, 15, 30, 60, 120, 300, 900, 3600],
  registers: [registry],
});
export const invoiceIssued = (requestedAt: Date, issuedAt: Date) => invoiceIssue.observe(Math.max(0, (issuedAt.getTime() - requestedAt.getTime()) / 1000));
