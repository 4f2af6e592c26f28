// The load generator, in a process of its own so that it does not share the measured server's event
// loop. It stays up for the whole bench and runs one autocannon run per IPC message
// {url, connections, seconds, headers}, answering with one object: its answers (all, non-2xx,
// errors), the run's own length in seconds, and the latency (ms) of every 2xx answer, pooled over
// rounds by the parent for a p99 of the whole measurement (autocannon's own histogram only gives
// one run's percentiles). A process that stays up lets a bench alternate many short rounds (bench/bills.ts):
// starting node and autocannon again for each took about half a second.
import autocannon from 'autocannon';

process.on('disconnect', () => process.exit(0));
process.on('message', ({ url, connections, seconds, headers }) => {
  const latencies = [];
  const instance = autocannon({ url, connections, duration: seconds, headers }, (err, r) => {
    if (err) {
      process.send({ error: String(err?.stack ?? err) });
      return;
    }
    process.send({
      total: r.requests.total,
      seconds: r.duration,
      non2xx: r.non2xx,
      errors: r.errors + r.timeouts,
      latencies,
    });
  });
  instance.on('response', (_client, status, _bytes, ms) => {
    if (status >= 200 && status < 300) latencies.push(Math.round(ms * 100) / 100);
  });
});
