import 'reflect-metadata';
import { ConfigError, loadConfig } from './config';
import { startHost } from './host';
import { DEMO } from './demo/seed';

async function main() {
  const config = loadConfig();
  const seed = config.HB_SEED_DEMO === '1';
  const host = await startHost({ seedDemo: seed, demoNextSeason: seed, sandbox: config.HB_MODE !== 'production' });
  host.log.info({ url: host.url, mode: host.config.HB_MODE, db: host.config.DATABASE_URL ? 'mysql' : 'sqlite' }, 'Heat Butler BFF listening');
  if (seed) {
    // demo data only (sandbox): what to type on the bind page
    const lines = DEMO.accounts.slice(0, 3).map((a) => `  户号 ${a.accountNo}  户主 ${a.ownerName}  手机后4位 ${a.phoneLast4}`);
    console.log(
      `\nHeat Butler (sandbox) at ${host.url}\nDemo accounts to bind:\n${lines.join('\n')}\nStaff: ${DEMO.staff.map((s) => s.username).join(', ')} / password ${DEMO.staff[0]!.password}\n`,
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // a second signal: don't wait any longer
      host.log.warn({ signal }, 'forced exit');
      process.exit(1);
    }
    stopping = true;
    const started = Date.now();
    host.log.info({ signal }, 'shutting down: draining requests, sockets and jobs');
    await host.close();
    host.log.info({ ms: Date.now() - started }, 'shut down');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
  } else {
    console.error('Heat Butler failed to start:', err);
  }
  process.exit(1);
});
