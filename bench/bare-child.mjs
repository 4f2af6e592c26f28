// A bare handler a bench compares the BFF with, in a process of its own under the BFF's node flags
// (bench/lib.ts bareChild): one Koa handler, no middleware, no auth. Environment: BENCH_BARE, JSON:
// - {"kind": "rows", "uri", "pool", "sql", "params"} (bench/bills.ts): runs one statement on a
//   mysql2 pool of `pool` connections (prepared per pooled connection, through mysql2's callback
//   API, as the BFF's readRows) and answers its rows as they come, as JSON;
// - {"kind": "notify", "uri", "pool", "build", "pay": {"appid", "mchid", "apiV3Key"}} (bench/notify.ts):
//   a WeChat Pay notification verified and decrypted by the project's PayClient (the compiled
//   build's wechat/pay.js with the sandbox's keys, as host.js's createPayClientFromConfig makes it
//   in sandbox mode) and one idempotent insert with raw mysql2 (INSERT IGNORE by transaction id,
//   into bench_notification, which the bench creates); 204, or 401 when it does not verify.
// Prints one `READY {"url": …}` line when it listens; ends on SIGTERM.
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import Koa from 'koa';
import mysql from 'mysql2';

const opts = JSON.parse(process.env.BENCH_BARE);
const pool = mysql.createPool({ uri: opts.uri, connectionLimit: opts.pool });
const app = new Koa();
if (opts.kind === 'rows') {
  app.use(async (ctx) => {
    const rows = await new Promise((resolve, reject) => pool.execute(opts.sql, opts.params, (err, r) => (err ? reject(err) : resolve(r))));
    ctx.body = { items: rows };
  });
} else if (opts.kind === 'notify') {
  const built = createRequire(path.join(opts.build, 'main.js'));
  const { createPayClient } = built('./wechat/pay.js');
  const { sandboxPayCredentials } = built('./sandbox/keys.js');
  // (baseUrl: the PayClient's API calls; verifying a notification makes none)
  const pay = createPayClient({ baseUrl: 'http://127.0.0.1:9/sandbox', now: () => new Date(), ...opts.pay, ...sandboxPayCredentials() });
  const promisePool = pool.promise();
  app.use(async (ctx) => {
    const chunks = [];
    for await (const c of ctx.req) chunks.push(c);
    let event;
    try {
      event = pay.verifyAndDecryptNotification({ headers: ctx.headers, rawBody: Buffer.concat(chunks) });
    } catch {
      ctx.status = 401;
      return;
    }
    const tx = event.resource;
    await promisePool.query('INSERT IGNORE INTO bench_notification (transactionId, outTradeNo, amountFen, at) VALUES (?, ?, ?, NOW(3))', [
      tx.transaction_id,
      tx.out_trade_no,
      tx.amount.total,
    ]);
    ctx.status = 204;
  });
} else {
  throw new Error(`bare-child: unknown kind ${opts.kind}`);
}
const server = http.createServer(app.callback());
server.listen(0, '127.0.0.1', () => console.log(`READY ${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/` })}`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => pool.end(() => process.exit(0)));
});
