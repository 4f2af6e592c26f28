/** `npm run seed`: migrate, then create the demo company (skipped if the database has one). */
import 'reflect-metadata';
import { loadConfig } from '../config';
import { createDataSource } from '../platform/db/data-source';
import { createLogger } from '../platform/logger';
import { createServices } from '../app';
import { createMiniProgramClient } from '../wechat/miniprogram';
import { seedDemo } from '../demo/seed';
import { createPayClientFromConfig } from '../host';

async function main() {
  const config = loadConfig();
  const ds = createDataSource({ url: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const log = createLogger(config.LOG_LEVEL);
  const wechat = createMiniProgramClient({ baseUrl: config.WECHAT_API_BASE ?? 'http://127.0.0.1:3000/sandbox', appid: config.WECHAT_APPID, secret: config.WECHAT_SECRET });
  const services = createServices({ config, ds, log, clock: () => new Date(), wechat, pay: createPayClientFromConfig(config) });
  const result = await seedDemo(services);
  console.log(result.created ? `Seeded the demo company: ${result.households} households.` : 'The database already has a company; nothing seeded.');
  await ds.destroy();
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
