/**
 * The mini-program's API: the transport (http.ts) and one module of typed client functions per
 * domain (accounts.ts, billing.ts, …), generated from the route descriptors in shared/.
 * Pages import the domain modules; nothing spells an '/api/v1/…' path by hand.
 */
export * from './http';
export { API_PREFIX, call, client, pathOf, type CallArgs, type CallOptions, type Client } from './client';
