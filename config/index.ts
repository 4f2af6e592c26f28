import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type UserConfigExport } from '@tarojs/cli';

/**
 * Taro build config. The mini-program sources live in `miniprogram/`; `dist/weapp` is opened by
 * WeChat DevTools (project.config.json) and `dist/h5` is served by the BFF (`npm start`).
 */
export default defineConfig(async (merge) => {
  const env = process.env.TARO_ENV ?? 'h5';
  const weapp = weappSettings(env);
  const base: UserConfigExport<'webpack5'> = {
    projectName: 'heat-butler',
    date: '2026-11-24',
    designWidth: 750,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'miniprogram',
    outputRoot: `dist/${env}`,
    plugins: [],
    defineConstants: {
      // H5 is served by the BFF itself: same origin. The weapp talks to the configured BFF.
      API_BASE: JSON.stringify(env === 'h5' ? '' : weapp.apiBase),
    },
    alias: {
      '@heat-butler/shared': path.resolve(__dirname, '..', 'shared', 'src'),
    },
    copy: {
      patterns:
        env === 'weapp'
          ? [{ from: 'miniprogram/sitemap.json', to: 'dist/weapp/sitemap.json' }]
          : // the tab bar's icons are loaded by URL in the browser build (the weapp build copies them from app.config)
            [{ from: 'miniprogram/assets/icons', to: 'dist/h5/assets/icons' }],
      options: {},
    },
    framework: 'react',
    compiler: 'webpack5',
    // a patched package (patches/, applied by patch-package) keeps its version: make the cache notice
    cache: { enable: true, buildDependencies: { patches: [path.resolve(__dirname, '..', 'patches') + '/'] } },
    mini: {
      // Taro runs only our sources through Babel; zod ships ES2020 (?., ??, spread, class fields)
      // that old iOS JavaScriptCore can't parse. Transpiling it here keeps every shipped .js at
      // ES2017 or lower by our own build (checked by weapp-test/syntax.test.ts), independent of
      // WeChat's optional ES6→ES5 step (project.config.json keeps es6:false).
      compile: { include: [path.resolve(__dirname, '..', 'node_modules', 'zod')] },
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        // compile the shared TypeScript package (a workspace symlink) like our own sources
        chain.module.rule('script').include.add(path.resolve(__dirname, '..', 'shared', 'src'));
        chain.plugin('hb-project-config').use(ProjectConfigAtRoot, [path.resolve(__dirname, '..', `dist/${env}`, 'project.config.json')]);
      },
    },
    h5: {
      publicPath: './',
      staticDirectory: 'static',
      router: { mode: 'hash' },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        chain.module.rule('script').include.add(path.resolve(__dirname, '..', 'shared', 'src'));
      },
    },
  };
  return merge({}, base);
});

/**
 * Taro writes `miniprogramRoot: './'` into dist/weapp/project.config.json; WeChat's compiler
 * (miniprogram-ci, used to upload) then can't find app.json when it looks for unused files. The
 * folder itself is the default root: drop the field once the build is done.
 */
class ProjectConfigAtRoot {
  constructor(private readonly file: string) {}
  apply(compiler: { hooks: { done: { tap(name: string, fn: () => void): void } } }) {
    compiler.hooks.done.tap('hb-project-config', () => {
      if (!fs.existsSync(this.file)) return;
      const config = JSON.parse(fs.readFileSync(this.file, 'utf8'));
      if (!('miniprogramRoot' in config)) return;
      delete config.miniprogramRoot;
      fs.writeFileSync(this.file, JSON.stringify(config, null, 2));
    });
  }
}

/**
 * The WeChat build's settings from the environment. A release build (`taro build` sets
 * NODE_ENV=production unless --watch) must name the BFF it talks to: `HB_API_BASE=https://…`
 * (WeChat only calls https request domains) and `WECHAT_APPID` (written into
 * dist/weapp/project.config.json). Development builds (`--watch` or NODE_ENV=development) default
 * to the BFF on loopback and DevTools' tourist appid.
 */
function weappSettings(env: string): { apiBase: string } {
  const apiBase = process.env.HB_API_BASE?.replace(/\/+$/, '') ?? '';
  const appid = process.env.WECHAT_APPID ?? '';
  if (env !== 'weapp') return { apiBase };
  if (process.env.NODE_ENV === 'production') {
    const problems: string[] = [];
    if (!/^https:\/\/[^/\s]+(\/\S*)?$/.test(apiBase))
      problems.push(`HB_API_BASE must be the BFF's https:// address (got ${JSON.stringify(process.env.HB_API_BASE ?? '')})`);
    if (!/^wx[0-9a-f]{16}$/.test(appid)) problems.push(`WECHAT_APPID must be the mini-program's appid, wx + 16 hex digits (got ${JSON.stringify(appid)})`);
    if (problems.length) {
      throw new Error(
        `Refusing a production WeChat build:\n  - ${problems.join('\n  - ')}\nFor a local build against the BFF on loopback: NODE_ENV=development npm run build:weapp`,
      );
    }
  }
  // Taro writes TARO_APP_ID into dist/weapp/project.config.json
  if (appid) process.env.TARO_APP_ID = appid;
  return { apiBase: apiBase || 'http://127.0.0.1:3000' };
}
