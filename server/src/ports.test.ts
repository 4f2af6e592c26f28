/**
 * Ports stay with whoever picked them until they are used. A BFF started with PORT=0 (every test
 * app, the e2e runs, the benches) holds its port from the moment it picks it: one picked and let go
 * stood free through the whole start-up, and the kernel gave it to another socket meanwhile
 * (EADDRINUSE in a CI run). A child process's port is picked below the kernel's own range.
 */
import fs from 'node:fs';
import net from 'node:net';
import { expect, it } from 'vitest';
import { reservePort, startHost } from './host';
import { createLogger } from './platform/logger';
import { ephemeralPorts, freePort } from './test-support/child-bff';
import { createTestDatabase } from './test-support/db';

const linux = fs.existsSync('/proc/net/tcp');

/** Ports something on this machine listens on now, on any address (Linux: /proc/net/tcp and tcp6). */
function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      // state 0A: LISTEN; local: hex address, then the port in hex
      if (state === '0A' && local) ports.add(parseInt(local.split(':')[1]!, 16));
    }
  }
  return ports;
}

function listenOn(port: number): Promise<net.Server> {
  const s = net.createServer();
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

/** What a client connecting to `port` sees within 2 s: dropped (closed or reset), refused, or nothing. */
function clientOutcome(port: number): Promise<'dropped' | 'refused' | 'left waiting'> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('left waiting');
    }, 2_000);
    const done = (outcome: 'dropped' | 'refused') => {
      clearTimeout(timer);
      resolve(outcome);
    };
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code === 'ECONNREFUSED' ? 'refused' : 'dropped'));
    socket.on('close', () => done('dropped'));
  });
}

it('a reserved port cannot be taken, drops a client at once, and is free once released', async () => {
  const reserved = await reservePort('127.0.0.1');
  await expect(listenOn(reserved.port)).rejects.toMatchObject({ code: 'EADDRINUSE' });
  expect(await clientOutcome(reserved.port)).toBe('dropped');
  await reserved.release();
  const taker = await listenOn(reserved.port);
  await new Promise<void>((r) => taker.close(() => r()));
});

it.skipIf(!linux)(
  'a BFF started with PORT=0 holds its port through start-up, before it listens',
  async () => {
    const db = await createTestDatabase();
    // the demo seed reads the clock first: the moment start-up is half done (the port picked, the
    // server not yet listening, which comes after the seed)
    let duringStartUp: Set<number> | undefined;
    const host = await startHost({
      port: 0,
      sandbox: true,
      synchronize: true,
      seedDemo: true,
      databaseUrl: db.url,
      sqlitePath: db.url ? undefined : ':memory:',
      logger: createLogger('silent'),
      outboxWorker: false,
      clock: () => {
        duringStartUp ??= listeningPorts();
        return new Date();
      },
    });
    try {
      expect(duringStartUp).toBeDefined();
      expect([...duringStartUp!]).toContain(Number(new URL(host.url).port));
      expect((await fetch(`${host.url}/healthz`)).status).toBe(200);
    } finally {
      await host.close();
      await db.drop();
    }
  },
  60_000,
);

it('freePort picks a port nobody listens on, below the range the kernel gives out itself', async () => {
  const [lowest] = ephemeralPorts();
  const picked = new Set<number>();
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    expect(port).toBeGreaterThanOrEqual(10_000);
    expect(port).toBeLessThan(lowest);
    picked.add(port);
    const s = await listenOn(port);
    await new Promise<void>((r) => s.close(() => r()));
  }
  // at random: twenty picks are not one port
  expect(picked.size).toBeGreaterThan(1);
});
