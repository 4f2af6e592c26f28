import path from 'node:path';
import { defineConfig, type UserConfigExport } from '@tarojs/cli';

/**
 * Taro build config. The mini-program sources live in `miniprogram/`; `dist/weapp` is opened by
 * WeChat DevTools (project.config.json) and `dist/h5` is served by the BFF (`npm start`).
 */
export default defineConfig(async (merge) => {
  const env = process.env.TARO_ENV ?? 'h5';
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
      API_BASE: JSON.stringify(env === 'h5' ? '' : process.env.HB_API_BASE || 'http://127.0.0.1:3000'),
    },
    alias: {
      '@heat-butler/shared': path.resolve(__dirname, '..', 'shared', 'src'),
    },
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: 'webpack5',
    cache: { enable: true },
    mini: {
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false, config: { namingPattern: 'module', generateScopedName: '[name]__[local]___[hash:base64:5]' } },
      },
      webpackChain(chain) {
        // compile the shared TypeScript package (a workspace symlink) like our own sources
        chain.module.rule('script').include.add(path.resolve(__dirname, '..', 'shared', 'src'));
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
