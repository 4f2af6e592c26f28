// bench:notify's load generator, in a process of its own (as bench:bills's cannon-child.mjs): it
// stays up for the whole bench and, per IPC message {url, items, concurrency}, POSTs every {body,
// headers} of `items` to `url` with `concurrency` in flight, then answers {ms, statuses, lat, cpuMs}:
// the run's wall time, the count of each status, every answer's latency (ms, in item order) and
// the CPU this process spent on the run.
// node:http with a keep-alive agent, not fetch: undici's fetch cost ~400 µs of CPU a request on
// these 2 cores against ~90 µs, and in a worker thread of the bench's own process it took more of the
// machine than the server it measured (1,639 µs a notification against the BFF's 716 µs,
// 2026-12-01), which squeezed the servers' ratio toward 100 % (95 % then; 71 % with this client).
import http from 'node:http';

process.on('disconnect', () => process.exit(0));
process.on('message', async ({ url, items, concurrency }) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const post = (item) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(item.body);
      const req = http.request(url, { method: 'POST', agent, headers: { ...item.headers, 'content-length': body.length } }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode));
        res.once('error', reject);
      });
      req.once('error', reject);
      req.end(body);
    });
  try {
    const statuses = {};
    const lat = new Array(items.length);
    let next = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < items.length) {
          const i = next++;
          const s = performance.now();
          const status = await post(items[i]);
          lat[i] = performance.now() - s;
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      }),
    );
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    process.send({ ms, statuses, lat, cpuMs: (cpu.user + cpu.system) / 1000 });
  } catch (err) {
    process.send({ error: String(err?.stack ?? err) });
  } finally {
    agent.destroy();
  }
});
