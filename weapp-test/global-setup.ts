/**
 * Before any test file runs: build the WeChat app (dist/weapp) once if it is missing or stale,
 * so the weapp test files never build it at the same time. Skipped when the run is filtered to
 * files outside weapp-test/.
 */
import { ensureWeappBuild } from './build';

export default function setup(): void {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run');
  if (filters.length && !filters.some((f) => f.includes('weapp'))) return;
  ensureWeappBuild();
}
