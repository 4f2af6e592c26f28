/** `npm run db:migrate`: apply the committed migrations to DATABASE_URL (or the SQLite file). */
import 'reflect-metadata';
import { loadConfig } from '../config';
import { createDataSource } from '../db';
import { runMigrationsLocked } from '../platform/db/data-source';

async function main() {
  const config = loadConfig();
  const ds = createDataSource({ url: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
  await ds.initialize();
  const applied = await runMigrationsLocked(ds);
  console.log(applied.length ? `Applied ${applied.length} migration(s):\n${applied.map((m) => '  ' + m.name).join('\n')}` : 'Database is up to date.');
  await ds.destroy();
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
