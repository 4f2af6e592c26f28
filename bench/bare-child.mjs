// The bare handler bench/bills.ts compares the BFF with, in a process of its own under the BFF's
// node flags (bench/lib.ts bareChild): one Koa handler that runs one statement on a mysql2 pool
// (prepared per pooled connection, through mysql2's callback API, as the BFF's readRows) and answers
// its rows as they come, as JSON. No auth, no view-building, no sorting, no middleware.
// Environment: BENCH_BARE = {"uri", "pool" (connections), "sql", "params"}. Prints one
// `READY {"url": …}` line when it listens; ends on SIGTERM.
import http from 'node:http';
import Koa from 'koa';
import mysql from 'mysql2';

const { uri, pool: size, sql, params } = JSON.parse(process.env.BENCH_BARE);
const pool = mysql.createPool({ uri, connectionLimit: size });
const app = new Koa();
app.use(async (ctx) => {
  const rows = await new Promise((resolve, reject) => pool.execute(sql, params, (err, r) => (err ? reject(err) : resolve(r))));
  ctx.body = { items: rows };
});
const server = http.createServer(app.callback());
server.listen(0, '127.0.0.1', () => console.log(`READY ${JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/` })}`));
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => pool.end(() => process.exit(0)));
});
