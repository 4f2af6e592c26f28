/**
 * 管家群 end to end: a resident's message POSTed to the BFF, stored, and delivered to the 500 members'
 * sockets while 10,000 clients are connected to the one BFF process with real session tokens.
 *
 *   npm run bench:ws [-- --clients 10000 --group 500 --rounds 30 --warmup 5 --procs 4]
 *   BENCH_REDIS=redis://127.0.0.1:6379 npm run bench:ws     (publish through Redis, as with REDIS_URL)
 *
 * Needs MariaDB (TEST_DATABASE_URL, default mariadb://root@127.0.0.1:3306; a database hb_t_<random>
 * is created and dropped). The BFF measured is the compiled one in its own process under plain `node`
 * (bench/bff-child.mjs, as production runs it; built first when the sources are newer), on a
 * database the in-process test app created and seeded (startTestApp, demo seed: it only sets up).
 * - clients: CLIENTS residents with a session each (rows inserted directly; each socket's token is
 *   checked by the BFF at connect — identity.resolveToken — and its topics come from its group
 *   memberships); GROUP of them are members of one demo building's group, the rest are spread over
 *   the other buildings' groups. Senders are residents who bound an account of that building through
 *   POST /api/v1/accounts/bind (the real join).
 * - a round: POST /api/v1/groups/:id/messages to the compiled BFF (zod, auth, membership, rate limit,
 *   WeChat msgSecCheck through the sandbox, INSERT, fan-out). The text carries the time the POST was
 *   sent; latency is the arrival time at each member's socket minus that (same machine,
 *   performance.timeOrigin + now()).
 * - in the same run, as the baseline: the hub alone (RealtimeHub.publish in the BFF's process, asked
 *   over IPC, of a frame of the same size to the same topic and sockets, stamped just before publish).
 * Client sockets live in PROCS child processes (bench/ws-client.mjs), so the BFF's event loop only serves.
 * The BFF's process needs CLIENTS + ~100 descriptors (raised to the hard limit; `ulimit -Hn`).
 * Goal of issue 18 (2 cores): end to end p99 ≤ 100 ms.
 */
import { fork, execSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { startTestApp } from '../server/src/test-support/app';
import { DEMO } from '../server/src/demo/seed';
import { Resident, Session } from '../server/src/modules/identity/entities';
import { GroupMember } from '../server/src/modules/groups/entities';
import { ask, builtBff, flag, fmt, mb, pct, procRssBytes, run, summary } from './lib';

const CLIENTS = flag('clients', 10_000, 'BENCH_CLIENTS');
const GROUP = flag('group', 500, 'BENCH_GROUP');
const PROCS = flag('procs', 4, 'BENCH_PROCS');
const ROUNDS = flag('rounds', 30, 'BENCH_ROUNDS');
const WARMUP = flag('warmup', 5);
const INTERVAL = flag('interval', 200, 'BENCH_INTERVAL_MS');
const SENDERS = 3; // post.resident allows 30 posts per 10 minutes each (rounds + warm-up ≤ 90)
const GOAL_P99 = 100;

const now = () => performance.timeOrigin + performance.now();
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

run(async () => {
  const hard = Number(execSync('sh -c "ulimit -Hn"').toString().trim());
  if (hard < CLIENTS + 100) console.warn(`! ulimit -Hn is ${hard}: the BFF's process needs ${CLIENTS + 100} descriptors`);
  console.log('setting up (MariaDB, demo seed)…');
  const t = await startTestApp({ seedDemo: true, ...(process.env.BENCH_REDIS ? { config: { REDIS_URL: process.env.BENCH_REDIS } } : {}) });
  const children: ReturnType<typeof fork>[] = [];
  let bff: Awaited<ReturnType<typeof builtBff>> | null = null;
  try {
    const { ds } = t;
    // ---- senders: residents who bind accounts of one building (the first demo account's) -------
    const first = DEMO.accounts[0]!;
    const [acc] = await ds.query('SELECT buildingId FROM account WHERE accountNo = ?', [first.accountNo]);
    const [group] = await ds.query('SELECT id, buildingId FROM butler_group WHERE buildingId = ?', [acc.buildingId]);
    const accounts: { id: number; accountNo: string; ownerName: string }[] = await ds.query(
      "SELECT id, accountNo, ownerName FROM account WHERE buildingId = ? AND status = 'active' ORDER BY id",
      [acc.buildingId],
    );
    const senders: string[] = [];
    for (const a of accounts.slice(0, SENDERS)) {
      const token = await t.loginResident(`bench-sender-${a.accountNo}`);
      const r = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: a.accountNo, ownerName: a.ownerName } });
      if (r.status !== 201) throw new Error(`bind ${a.accountNo}: ${r.status} ${JSON.stringify(r.body)}`);
      senders.push(token);
    }
    const others: { id: number; buildingId: number }[] = await ds.query('SELECT id, buildingId FROM butler_group WHERE id <> ? ORDER BY id', [group.id]);
    const anyAccount = new Map<number, number>(
      (await ds.query('SELECT buildingId, MIN(id) AS id FROM account GROUP BY buildingId')).map((r: any) => [Number(r.buildingId), Number(r.id)]),
    );

    // ---- the other clients: residents with a session and a group membership, inserted directly --
    const t0 = now();
    const tokens: string[] = [...senders];
    const expiresAt = new Date(Date.now() + 24 * 3600_000);
    for (let i = senders.length; i < CLIENTS; i += 1000) {
      const n = Math.min(1000, CLIENTS - i);
      const res = await ds
        .getRepository(Resident)
        .insert(Array.from({ length: n }, (_, k) => ({ openid: `o-bench-${i + k}`, unionid: null, nickname: null, lastLoginAt: null })));
      const ids = res.identifiers.map((x) => Number(x.id));
      const batch = ids.map(() => crypto.randomBytes(32).toString('base64url'));
      tokens.push(...batch);
      await ds
        .getRepository(Session)
        .insert(ids.map((id, k) => ({ tokenHash: sha256(batch[k]!), kind: 'resident' as const, subjectId: id, expiresAt, revokedAt: null })));
      await ds.getRepository(GroupMember).insert(
        ids.map((id, k) => {
          const g = i + k < GROUP ? group : others[(i + k) % others.length]!;
          return { groupId: g.id, residentId: id, accountId: anyAccount.get(Number(g.buildingId))!, joinedAt: new Date(), leftAt: null };
        }),
      );
    }
    console.log(
      `${fmt(CLIENTS)} residents with sessions (${GROUP} in group ${group.id}, the rest in ${others.length} other groups) in ${((now() - t0) / 1000).toFixed(1)} s`,
    );

    // ---- connect every client (members spread evenly over the children) ------------------------
    const share: string[][] = Array.from({ length: PROCS }, () => []);
    tokens.forEach((tk, i) => share[i % PROCS]!.push(tk));
    const clientJs = path.join(__dirname, 'ws-client.mjs');
    for (let i = 0; i < PROCS; i++) {
      children.push(
        fork(clientJs, [], {
          // raise the child's own descriptor limit (soft ≤ hard) before node starts
          execPath: '/bin/sh',
          execArgv: ['-c', `ulimit -n $(ulimit -Hn) 2>/dev/null; exec "${process.execPath}" "$0"`],
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        }),
      );
    }
    // the BFF measured: compiled, its own process, on the database set up above
    bff = await builtBff(t.db.url!, {
      uploadDir: t.config.UPLOAD_DIR,
      env: { BENCH_LAG: '1', ...(process.env.BENCH_REDIS ? { REDIS_URL: process.env.BENCH_REDIS } : {}) },
    });
    const served = bff;
    const bffStats = () => served.ask<{ connections: number; lagP99Ms: number; lagMaxMs: number }>({ cmd: 'stats' }, 'stats');
    const postTo = async (path: string, token: string, body: unknown) => {
      const res = await fetch(served.url + path, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    };
    const wsUrl = `${served.url.replace(/^http/, 'ws')}/api/v1/ws`;
    const rssBefore = procRssBytes(served.pid);
    const c0 = now();
    const connected = await Promise.all(
      children.map((c, i) => ask<{ ok: number; failed: number }>(c, { cmd: 'connect', url: wsUrl, tokens: share[i], concurrency: 25 }, 'connected')),
    );
    const connectS = (now() - c0) / 1000;
    const ok = connected.reduce((s, c) => s + c.ok, 0);
    const failed = connected.reduce((s, c) => s + c.failed, 0);
    await sleep(500);
    console.log(
      `clients: ${fmt(ok)} connected (${failed} failed) in ${connectS.toFixed(1)} s, ${fmt(ok / connectS)}/s with a token check each; hub sees ${(await bffStats()).connections}; the BFF's RSS ${mb(rssBefore)} → ${mb(procRssBytes(served.pid))}`,
    );

    // ---- end to end: POST → stored → delivered ----------------------------------------------
    const notice = '各位住户您好：因主管线抢修，今晚20:00至明早6:00本楼暂停供热，预计明早6点前恢复。给您带来不便敬请谅解，如有疑问请在群内留言或拨打供热热线。';
    const latencies = async () =>
      (await Promise.all(children.map((c) => ask<{ latencies: number[] }>(c, { cmd: 'stats' }, 'stats')))).flatMap((s) => s.latencies).sort((a, b) => a - b);
    const messages = async (n: number, from: number) => {
      const ms: number[] = [];
      for (let r = from; r < from + n; r++) {
        const s = now();
        const res = await postTo(`/api/v1/groups/${group.id}/messages`, senders[r % senders.length]!, { text: `${notice} [t=${s.toFixed(3)}]` });
        ms.push(now() - s);
        if (res.status !== 201) throw new Error(`POST message: ${res.status} ${JSON.stringify(res.body)}`);
        await sleep(INTERVAL);
      }
      await sleep(1000);
      return ms;
    };
    // warm-up, not measured (as bench:bills warms up): a started process's first messages fetch
    // WeChat's access token for msgSecCheck, prepare their statements and get their code compiled
    const warm = await messages(WARMUP, 0);
    const cold = await latencies();
    await bffStats(); // the event-loop delay from here
    const postMs = await messages(ROUNDS, WARMUP);
    const lag = await bffStats();
    const e2e = await latencies();
    const [stored] = await ds.query('SELECT COUNT(*) AS n FROM group_message WHERE groupId = ?', [group.id]);

    // ---- baseline: the hub alone, same sockets, a frame of the same size ---------------------
    const frame = (await t.call('GET', `/api/v1/groups/${group.id}/messages`, { token: senders[0] })).body?.items?.at(-1) ?? { text: notice };
    for (let r = 0; r < ROUNDS; r++) {
      await served.ask({ cmd: 'publish', topic: `group:${group.id}`, event: { type: 'message', message: { ...frame, id: -r } } }, 'published');
      await sleep(INTERVAL);
    }
    await sleep(1000);
    const hub = (await Promise.all(children.map((c) => ask<{ latencies: number[] }>(c, { cmd: 'stats' }, 'stats'))))
      .flatMap((s) => s.latencies)
      .sort((a, b) => a - b);

    const expected = Math.min(GROUP, ok) * ROUNDS;
    const warmLine = `${WARMUP} messages: POST ${warm.map((x) => fmt(x, 0)).join(' / ')} ms; delivered p99 ${fmt(pct(cold, 99), 1)} ms`;
    const post = [...postMs].sort((a, b) => a - b);
    const line = (l: number[]) => `p50 ${fmt(pct(l, 50), 1)} / p95 ${fmt(pct(l, 95), 1)} / p99 ${fmt(pct(l, 99), 1)} / max ${fmt(l.at(-1) ?? NaN, 1)} ms`;
    summary(
      `group message end to end (${fmt(ok)} clients, group of ${GROUP}, ${ROUNDS} messages every ${INTERVAL} ms${process.env.BENCH_REDIS ? ', via Redis' : ''})`,
      [
        { what: 'clients connected / failed', value: `${fmt(ok)} / ${failed}` },
        { what: 'warm-up (not counted)', value: warmLine },
        { what: 'e2e POST → member socket', value: line(e2e) },
        { what: '  delivered / expected; stored', value: `${fmt(e2e.length)} / ${fmt(expected)}; ${stored.n} messages (${WARMUP} of them warm-up)` },
        { what: '  POST answered (201)', value: line(post) },
        { what: "  the BFF's event-loop delay p99 / max", value: `${fmt(lag.lagP99Ms, 1)} / ${fmt(lag.lagMaxMs, 1)} ms` },
        { what: 'hub alone publish → member socket', value: line(hub) },
        { what: 'e2e p99 / hub p99', value: `${fmt(pct(e2e, 99) / pct(hub, 99), 2)}×` },
        {
          what: 'e2e p99',
          value: `${fmt(pct(e2e, 99), 1)} ms`,
          goal: `≤ ${GOAL_P99} ms (all delivered)`,
          pass: pct(e2e, 99) <= GOAL_P99 && e2e.length === expected,
        },
      ],
    );
  } finally {
    for (const c of children) c.send({ cmd: 'close' });
    await bff?.close();
    await t.close();
  }
});
