import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type Koa from 'koa';
import helmet from 'helmet';

/**
 * Security headers on every BFF answer, in two sets.
 * - The H5 pages and everything else outside /api/: helmet's set (`X-Content-Type-Options: nosniff`,
 *   frame and referrer rules, cross-origin isolation of resources) and a Content-Security-Policy the
 *   Taro H5 build runs under: scripts, styles, images and connections from this origin only. The one
 *   inline script of the H5 page (the rem sizing snippet from miniprogram/index.html) is allowed by
 *   its hash, read from the built page.
 * - The API (/api/…): JSON, files and uploads that no browser renders as a page. The REST set of
 *   OWASP's cheat sheet: nosniff, a policy that loads nothing and may not be framed, no referrer,
 *   same-origin resources, HSTS on https, and `Cache-Control: no-store` (bills, addresses and phone
 *   numbers stay out of caches; a route that may be cached, an upload's signed link, sets its own).
 *   About 250 bytes instead of the page set's 1,000, on every answer a phone receives.
 * Neither set depends on the request: each is made once, at start-up, and each answer gets a copy
 * (helmet's per-request middleware, a dozen small functions behind a promise, cost more CPU than the
 * rest of the bill list's middleware together).
 */
export function securityHeaders(opts: { h5Dir?: string; https: boolean }): (ctx: Koa.Context) => void {
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void set.push([name, String(value)]),
    removeHeader: (name: string) => void removed.push(name),
  };
  helmetFor(opts)({} as never, recorder as never, (err?: unknown) => {
    if (err) throw err;
  });
  if (!set.length) throw new Error('security headers: helmet set none');
  const api = apiHeaders(opts);
  return (ctx) => {
    const res = ctx.res;
    if (ctx.path.startsWith('/api/')) {
      for (const [name, value] of api) res.setHeader(name, value);
      return;
    }
    for (const name of removed) res.removeHeader(name);
    for (const [name, value] of set) res.setHeader(name, value);
  };
}

/** The API's set (OWASP REST Security Cheat Sheet, "Security headers"). */
function apiHeaders(opts: { https: boolean }): [string, string][] {
  return [
    ['Cache-Control', 'no-store'],
    ['Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'"],
    ['Cross-Origin-Resource-Policy', 'same-origin'],
    ['Referrer-Policy', 'no-referrer'],
    ['X-Content-Type-Options', 'nosniff'],
    ['X-Frame-Options', 'DENY'],
    ...(opts.https ? ([['Strict-Transport-Security', `max-age=${180 * 24 * 3600}`]] as [string, string][]) : []),
  ];
}

function helmetFor(opts: { h5Dir?: string; https: boolean }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'", ...inlineScriptHashes(opts.h5Dir)],
        // Taro's web components add <style> elements and style attributes at run time
        styleSrc: ["'self'", "'unsafe-inline'"],
        // photos are previewed from data:/blob: before upload; uploads are served by this origin
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        // the API and the realtime WebSocket (same host); blob: for a chosen photo, which Taro's H5
        // uploadFile reads back with XHR before sending it
        connectSrc: ["'self'", 'blob:'],
        mediaSrc: ["'self'", 'blob:'],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        ...(opts.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    // the sandbox runs on plain http: a HSTS header there would only confuse
    strictTransportSecurity: opts.https ? { maxAge: 180 * 24 * 3600, includeSubDomains: false } : false,
    // the H5 page opens no cross-origin windows; resources are for this origin only
    crossOriginOpenerPolicy: { policy: 'same-origin' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

/** 'sha256-…' of every inline <script> in the H5 build's index.html (none when not serving it). */
export function inlineScriptHashes(h5Dir: string | undefined): string[] {
  if (!h5Dir) return [];
  let html: string;
  try {
    html = fs.readFileSync(path.join(h5Dir, 'index.html'), 'utf8');
  } catch {
    return [];
  }
  const hashes: string[] = [];
  for (const m of html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/gi)) {
    if (!m[1]!.trim()) continue;
    hashes.push(`'sha256-${crypto.createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  }
  return hashes;
}
