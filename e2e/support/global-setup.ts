/**
 * Before any test file runs: build the H5 app once if it is missing or stale, so that browser
 * test files running in parallel never build it at the same time. Skipped when the run is
 * filtered to files outside e2e/.
 */
import { resetGallery, writeGalleryIndex } from './gallery';
import { ensureH5Build } from './h5';

export default function setup(): (() => void) | undefined {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run');
  if (filters.length && !filters.some((f) => f.includes('e2e'))) return undefined;
  ensureH5Build();
  resetGallery();
  // after the run: the screenshot gallery's index page
  return () => {
    const index = writeGalleryIndex();
    if (index) console.log(`Screenshot gallery: ${index}`);
  };
}
