// One autocannon run in a process of its own, so the load generator does not share the measured
// server's event loop. Argument: JSON {url, connections, seconds, headers}. Prints one JSON object:
// autocannon's summary and the latency (ms) of every 2xx answer, which the parent pools over
// rounds for a p99 of the whole measurement (autocannon's own histogram only gives one run's
// percentiles, and the worst round's p99 moved with whichever round the machine was busy in).
import autocannon from 'autocannon';

const { url, connections, seconds, headers } = JSON.parse(process.argv[2]);
const latencies = [];
const instance = autocannon({ url, connections, duration: seconds, headers }, (err, r) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  const out = {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    total: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    latencies,
  };
  process.stdout.write(JSON.stringify(out));
});
instance.on('response', (_client, status, _bytes, ms) => {
  if (status >= 200 && status < 300) latencies.push(Math.round(ms * 100) / 100);
});
