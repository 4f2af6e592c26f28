/**
 * Before any test file runs: the two builds of the mini-program the tests drive, each once when
 * missing or stale, so that test files running in parallel never build one at the same time —
 * dist/h5 for the browser tests (e2e/) and dist/weapp for the WeChat build's tests (weapp-test/).
 * The two build at once (each is mostly one core: ~1 min saved on 2 cores). A run filtered to other
 * files skips what it doesn't use.
 */
import { resetGallery, writeGalleryIndex } from './gallery';
import { buildH5IfStale } from './h5';
import { buildWeappIfStale } from '../../weapp-test/build';

export default async function setup(): Promise<(() => void) | undefined> {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'run');
  const wants = (dir: string) => !filters.length || filters.some((f) => f.includes(dir));
  await Promise.all([wants('e2e') ? buildH5IfStale() : undefined, wants('weapp') ? buildWeappIfStale() : undefined]);
  if (!wants('e2e')) return undefined;
  resetGallery();
  // after the run: the screenshot gallery's index page
  return () => {
    const index = writeGalleryIndex();
    if (index) console.log(`Screenshot gallery: ${index}`);
  };
}
