/**
 * A guard over the mini-program's pages: they call the API through the typed client functions
 * (services/api/<domain>.ts, generated from the route descriptors in shared/) and navigate through
 * the page constants (services/pages.ts), never through a literal '/api/v1/…' string or a literal
 * page path, which would drift from the routes and the app config unnoticed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const MP = path.join(__dirname, '..', 'miniprogram');
/** where pages live, and the components they share */
const PAGE_DIRS = ['pages', 'staff', 'components'];
const API_LITERAL = /['"`]\/api\/v1\//;
/** '/pages/bills/detail', `/staff/home/index?x=…`, 'pages/bind/index' (as a string literal) */
const PAGE_LITERAL = /['"`]\/?(pages|staff)\/[a-z][\w-]*\/[a-z][\w-]*/;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(tsx?|jsx?)$/.test(e.name) && !/\.(test|config)\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Every line of a page source with a literal API path or page path, as "file:line: code". */
export function literalPaths(file: string, source: string): string[] {
  return source.split('\n').flatMap((line, i) => {
    const code = line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '');
    return API_LITERAL.test(code) || PAGE_LITERAL.test(code) ? [`${path.relative(MP, file)}:${i + 1}: ${line.trim()}`] : [];
  });
}

describe('pages use the typed API client and the page constants', () => {
  it('finds no literal /api/v1/ path and no literal page path in a page', () => {
    const files = PAGE_DIRS.flatMap((d) => sources(path.join(MP, d)));
    expect(files.length).toBeGreaterThan(30);
    const found = files.flatMap((f) => literalPaths(f, fs.readFileSync(f, 'utf8')));
    expect(found).toEqual([]);
  });

  it('would catch the literals it is there for', () => {
    const bad = [
      '  const load = () => api.get<BillView>(`/api/v1/bills/${params.id}`).then(setBill);',
      "        <View onClick={() => Taro.navigateTo({ url: '/pages/login/index' })}>微信登录</View>",
      '      Taro.redirectTo({ url: `/pages/payments/detail?id=${order.id}` });',
      "  { roles: ['agent'], title: '维修回访', url: '/staff/callbacks/index' },",
    ];
    expect(literalPaths(path.join(MP, 'pages/x.tsx'), bad.join('\n'))).toHaveLength(4);
    const good = ['  const { data } = useData(() => billingApi.bill({ billId: params.id! }));', '  void nav.redirect(PAGES.paymentDetail, { id: order.id });'];
    expect(literalPaths(path.join(MP, 'pages/x.tsx'), good.join('\n'))).toEqual([]);
  });

  it('the page constants are the pages of app.config.ts', () => {
    // (read as text: the module imports Taro, which needs a mini-program runtime)
    const constants = [...fs.readFileSync(path.join(MP, 'services', 'pages.ts'), 'utf8').matchAll(/^\s+\w+: '(\/[\w/-]+)',$/gm)].map((m) => m[1]);
    const config = fs.readFileSync(path.join(MP, 'app.config.ts'), 'utf8');
    const subPackage = /root: 'staff',\s*pages: \[([^\]]*)\]/.exec(config)![1]!;
    const declared = [
      ...[...config.matchAll(/'(pages\/[\w-]+\/[\w-]+)'/g)].map((m) => `/${m[1]}`),
      ...[...subPackage.matchAll(/'([\w-]+\/[\w-]+)'/g)].map((m) => `/staff/${m[1]}`),
    ];
    expect(constants.length).toBeGreaterThan(30);
    expect([...new Set(declared)].sort()).toEqual(constants.sort());
  });
});
