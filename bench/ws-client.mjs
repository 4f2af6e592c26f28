// Load generator for bench/ws.ts (a child process: its own event loop and its own file descriptors).
// Messages from the parent: {cmd:'connect', url, tokens} → {type:'connected', ok, failed, ms};
// {cmd:'stats'} → {type:'stats', latencies} (ms from the frame's sentAt to its arrival here);
// {cmd:'close'} → exits.
import WebSocket from 'ws';
import { performance } from 'node:perf_hooks';

const now = () => performance.timeOrigin + performance.now();
const sockets = [];
let latencies = [];

function open(url, token) {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${url}?token=${token}`, { perMessageDeflate: false });
    let ready = false;
    ws.on('message', (data) => {
      const s = data.toString();
      if (!ready) {
        ready = true;
        sockets.push(ws);
        resolve(true);
        return;
      }
      const at = now();
      // the hub-only frames carry sentAt; a message POSTed through the BFF carries [t=…] in its text
      const m = /"sentAt":([\d.]+)/.exec(s) ?? /\[t=([\d.]+)\]/.exec(s);
      if (m) latencies.push(at - Number(m[1]));
    });
    ws.on('error', () => !ready && resolve(false));
    ws.on('close', () => !ready && resolve(false));
  });
}

process.on('message', async (msg) => {
  if (msg.cmd === 'connect') {
    const t0 = now();
    let ok = 0;
    let failed = 0;
    let i = 0;
    const lanes = Array.from({ length: msg.concurrency ?? 50 }, async () => {
      while (i < msg.tokens.length) {
        const token = msg.tokens[i++];
        if (await open(msg.url, token)) ok++;
        else failed++;
      }
    });
    await Promise.all(lanes);
    process.send({ type: 'connected', ok, failed, ms: now() - t0 });
  } else if (msg.cmd === 'stats') {
    process.send({ type: 'stats', latencies });
    latencies = [];
  } else if (msg.cmd === 'close') {
    for (const ws of sockets) ws.terminate();
    process.exit(0);
  }
});
