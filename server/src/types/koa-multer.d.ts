// @koa/multer 4 ships no types: the part this BFF uses (memory storage, one file).
declare module '@koa/multer' {
  import type { Middleware } from 'koa';
  interface Limits {
    fileSize?: number;
    files?: number;
    fields?: number;
    parts?: number;
    fieldSize?: number;
  }
  interface Instance {
    single(field: string): Middleware;
  }
  interface Multer {
    (options: { storage: unknown; limits?: Limits }): Instance;
    memoryStorage(): unknown;
  }
  const multer: Multer;
  export default multer;
}
