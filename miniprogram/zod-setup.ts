import { z } from 'zod';

// zod 4 probes for eval support with `new Function("")` when it builds an object schema, unless
// told not to. WeChat forbids eval and the H5 page's Content-Security-Policy blocks it (a reported
// violation on every page): tell zod before any schema is built. app.tsx imports this module
// first, so it runs before the schemas of `@heat-butler/shared` are constructed.
z.config({ jitless: true });
