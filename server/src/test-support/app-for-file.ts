import { afterAll, beforeAll } from 'vitest';
import type { HostOptions } from '../host';
import { startTestApp, type TestApp } from './app';

/**
 * The app of a test file: started before its tests (with the demo seed unless `opts` say
 * otherwise), closed after them. Read it only inside hooks and tests.
 */
export function testAppForFile(opts: HostOptions = { seedDemo: true }): TestApp {
  let app: TestApp | undefined;
  beforeAll(async () => {
    app = await startTestApp(opts);
  });
  afterAll(async () => app?.close());
  return new Proxy({} as TestApp, {
    get(_, key) {
      if (!app) throw new Error('the test app is read before beforeAll started it');
      return app[key as keyof TestApp];
    },
  });
}
