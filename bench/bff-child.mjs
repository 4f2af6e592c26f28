// The BFF a bench measures, in its own process under plain `node`: compiled by `npm run build`, as
// production runs it (no tsx, no TypeScript in memory), on the bench's database. It prints one
// `READY {json}` line with its URL on stdout and closes on SIGTERM as main.js does.
// Environment (set by bench/lib.ts builtBff()): BENCH_BUILD (the build's server/ directory),
// BENCH_DB_URL, BENCH_UPLOAD_DIR, BENCH_LOG_LEVEL (default silent, as the test app), BENCH_LAG=1
// (the event loop's delay for {cmd:'stats'}).
// Like the in-process test app: the sandbox mounted, no outbox worker or scheduled jobs (their work
// would land on one side of the comparison only).
// Messages from the parent (IPC, ChildServer.ask): {cmd:'publish', topic, event} publishes on the hub
// (bench/ws.ts's hub-alone baseline, stamped here just before) → {type:'published'};
// {cmd:'stats'} → {type:'stats', connections, lagP99Ms, lagMaxMs} (this event loop's delay since
// the last stats).
import path from 'node:path';
import { createRequire } from 'node:module';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const require = createRequire(path.join(process.env.BENCH_BUILD, 'main.js'));
require('reflect-metadata');
const { startHost } = require('./host.js');
const { createLogger } = require('./platform/logger.js');

const host = await startHost({
  port: 0,
  sandbox: true,
  // the parent created the schema (synchronize), so there are no migrations to run
  synchronize: true,
  outboxWorker: false,
  databaseUrl: process.env.BENCH_DB_URL,
  logger: createLogger(process.env.BENCH_LOG_LEVEL || 'silent'),
  config: { UPLOAD_DIR: process.env.BENCH_UPLOAD_DIR },
});
// this event loop's delay, for bench:ws's stats (BENCH_LAG=1): a 1 ms timer the other benches'
// BFF, measured as production runs it, doesn't carry
const lag = monitorEventLoopDelay({ resolution: 1 });
if (process.env.BENCH_LAG === '1') lag.enable();
process.on('message', (msg) => {
  if (msg?.cmd === 'publish') {
    host.services.realtime.publish(msg.topic, { ...msg.event, sentAt: performance.timeOrigin + performance.now() });
    process.send({ type: 'published' });
  } else if (msg?.cmd === 'stats') {
    process.send({ type: 'stats', connections: host.services.realtime.connections, lagP99Ms: lag.percentile(99) / 1e6, lagMaxMs: lag.max / 1e6 });
    lag.reset();
  }
});
console.log(`READY ${JSON.stringify({ url: host.url })}`);
process.on('SIGTERM', () => {
  host.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
