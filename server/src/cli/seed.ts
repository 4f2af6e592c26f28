/** `npm run seed`: migrate, then create the demo company (skipped if the database has one). */
import 'reflect-metadata';
import { loadConfig } from '../config';
import { createDataSource } from '../db';
import { createLogger } from '../platform/logger';
import { createServices } from '../app';
import { seedDemo } from '../demo/seed';
import { createClients } from '../host';

async function main() {
  const config = loadConfig();
  const ds = createDataSource({ url: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
  await ds.initialize();
  await ds.runMigrations({ transaction: 'each' });
  const log = createLogger(config.LOG_LEVEL);
  const services = createServices({ config, ds, log, clock: () => new Date(), ...createClients(config, undefined, undefined, ds) });
  const result = await seedDemo(services, new Date(), { nextSeason: true });
  console.log(result.created ? `Seeded the demo company: ${result.households} households.` : 'The database already has a company; nothing seeded.');
  await ds.destroy();
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
