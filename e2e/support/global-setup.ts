/**
 * Before any test file runs: build the H5 app once if it is missing or stale, so that browser
 * test files running in parallel never build it at the same time. Skipped when the run is
 * filtered to files outside e2e/.
 */
import { ensureH5Build } from './h5';

export default function setup(): void {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run');
  if (filters.length && !filters.some((f) => f.includes('e2e'))) return;
  ensureH5Build();
}
