/**
 * WebSocket close codes the BFF sends when it ends a realtime connection on purpose
 * (4000–4999 are the application's range). The client stops reconnecting on the 44xx ones.
 */
export const WS_CLOSE = {
  /** the session ended: logged out, expired, or the staff account was disabled → log in again */
  SESSION_ENDED: 4401,
  /** the staff member's roles or areas changed: what this socket may receive changed → log in again */
  NOT_ALLOWED: 4403,
  /** the instance is shutting down (standard 1012 "service restart") → reconnect soon, to another instance */
  RESTARTING: 1012,
} as const;
