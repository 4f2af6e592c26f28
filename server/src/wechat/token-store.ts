/**
 * Where the WeChat access token lives. WeChat's stable token (POST /cgi-bin/stable_token) is one
 * token per appid shared by every caller; each BFF instance must use the same one and only one
 * instance at a time may fetch a new one. `dbTokenStore` keeps it in a small table
 * (wechat_access_token): instances read it, and a refresh locks the row (SELECT … FOR UPDATE),
 * re-reads it (another instance may just have refreshed) and only then calls WeChat.
 */
import type { DataSource } from 'typeorm';
import { WechatAccessToken } from '../platform/entities';
import { forUpdate, insertRow, isUniqueViolation, withTx } from '../platform/db/data-source';

export interface StoredToken {
  value: string;
  /** epoch ms: get a new one from here on */
  refreshAt: number;
  expiresAt: number;
}

/** Fetch a new token from WeChat (`force` = force_refresh). */
export type TokenFetcher = (force: boolean) => Promise<{ value: string; expiresInS: number }>;

export interface TokenStore {
  /** The current token, or a new one when none is fresh or `stale` (rejected by WeChat) is current. */
  get(fetch: TokenFetcher, opts?: { stale?: string }): Promise<StoredToken>;
}

/** Refresh this long before WeChat expires a token (WeChat renews stable tokens 5 min early). */
export const REFRESH_EARLY_MS = 5 * 60_000;

/** What to do with a token: is it usable, and when WeChat returns the rejected one again, force. */
async function renew(fetch: TokenFetcher, now: number, stale?: string): Promise<StoredToken> {
  let fresh = await fetch(false);
  // WeChat handed back the very token it just rejected: only a forced refresh replaces it
  if (stale && fresh.value === stale) fresh = await fetch(true);
  const expiresAt = now + fresh.expiresInS * 1000;
  return { value: fresh.value, expiresAt, refreshAt: Math.max(now, expiresAt - REFRESH_EARLY_MS) };
}

/** One process only (tests, scripts). */
export function memoryTokenStore(now: () => number = Date.now): TokenStore {
  let current: StoredToken | null = null;
  return {
    async get(fetch, opts = {}) {
      if (current && now() < current.refreshAt && current.value !== opts.stale) return current;
      current = await renew(fetch, now(), opts.stale);
      return current;
    },
  };
}

/** Shared by every instance through the database. */
export function dbTokenStore(ds: DataSource, appid: string, now: () => number = Date.now): TokenStore {
  const usable = (row: WechatAccessToken | null, stale?: string): row is WechatAccessToken =>
    !!row && row.value !== '' && row.value !== stale && now() < row.refreshAt.getTime();
  const view = (row: WechatAccessToken): StoredToken => ({ value: row.value, refreshAt: row.refreshAt.getTime(), expiresAt: row.expiresAt.getTime() });

  return {
    async get(fetch, opts = {}) {
      const repo = ds.getRepository(WechatAccessToken);
      const seen = await repo.findOneBy({ appid });
      if (usable(seen, opts.stale)) return view(seen);
      // the row to lock must exist
      if (!seen) {
        try {
          await insertRow(ds.manager, WechatAccessToken, { appid, value: '', expiresAt: new Date(0), refreshAt: new Date(0) });
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
      return withTx(ds, async (em) => {
        const row = await forUpdate(em.createQueryBuilder(WechatAccessToken, 't').where('t.appid = :appid', { appid })).getOne();
        if (usable(row, opts.stale)) return view(row); // another instance refreshed while we waited
        const fresh = await renew(fetch, now(), opts.stale);
        await em.update(WechatAccessToken, { appid }, { value: fresh.value, expiresAt: new Date(fresh.expiresAt), refreshAt: new Date(fresh.refreshAt) });
        return fresh;
      });
    },
  };
}
