/**
 * Runs the compiled WeChat build (dist/weapp) under Node, the way WeChat's logic layer runs it:
 * app.js, then each page's JS, with the mini-program globals (`wx`, `App`, `Page`, `Component`,
 * `getApp`, `getCurrentPages`) in a fresh VM context per session and **no `Intl`** (Android
 * WeChat's JS engine has none). `wx` implements what the app calls against the real BFF on
 * loopback: requests, storage, login (the WeChat simulator's codes), sockets (a real WebSocket),
 * payments (the WeChat Pay simulator), downloads. Taro renders through `setData`; the harness
 * applies its paths to a data tree per page, which is what the view layer would draw. Taps go
 * through the page's `eh` event handler exactly like a tap in WeChat.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import WebSocket from 'ws';
import { installedClockOffset, shiftBrowserDate } from '../server/src/test-support/clock';

export interface WeappEvent {
  page: string;
  kind: 'error' | 'console.error' | 'unhandled' | 'unimplemented';
  message: string;
}

export interface Clickable {
  sid: string;
  text: string;
  className: string;
  nodeName: string;
}

export interface WeappOptions {
  /** dist/weapp */
  dist: string;
  /** the BFF the requests really go to (the build's API base is rewritten to it) */
  server: string;
  /** the WeChat user the simulator logs in as (wx.login) and pays as (wx.requestPayment) */
  wechatUser: string;
  /** storage to start with (e.g. a staff session) */
  storage?: Record<string, unknown>;
}

interface PageInstance {
  route: string;
  __route__: string;
  options: Record<string, string>;
  data: Record<string, any>;
  setData(patch: Record<string, unknown>, cb?: () => void): void;
  $taroPath?: string;
  [k: string]: any;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** Apply a Taro setData key ("root.cn.[0].cn.[2].v", "root.cn[1]") to a data tree. */
export function applyPath(tree: Record<string, any>, key: string, value: unknown): void {
  const segs: (string | number)[] = [];
  for (const part of key.split('.')) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!m) {
      segs.push(part);
      continue;
    }
    if (m[1]) segs.push(m[1]);
    for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) segs.push(Number(idx[1]));
  }
  let node: any = tree;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    if (node[s] === undefined || node[s] === null || typeof node[s] !== 'object') node[s] = typeof segs[i + 1] === 'number' ? [] : {};
    node = node[s];
  }
  node[segs[segs.length - 1]!] = clone(value);
}

/** Every text in a Taro data tree (text nodes carry `v`). */
export function textsOf(tree: unknown): string[] {
  const out: string[] = [];
  const walk = (n: any) => {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) return n.forEach(walk);
    if (typeof n.v === 'string' && n.v.trim()) out.push(n.v.trim());
    for (const k of Object.keys(n)) if (k !== 'v') walk(n[k]);
  };
  walk(tree);
  return out;
}

export class Weapp {
  readonly events: WeappEvent[] = [];
  readonly navigations: { api: string; url: string; from: string }[] = [];
  readonly toasts: string[] = [];
  readonly modals: { title?: string; content?: string }[] = [];
  /** wx.getUpdateManager: the app's callbacks (tests call them as WeChat would) and how often it restarted into the new version */
  readonly update = { ready: [] as (() => void)[], failed: [] as (() => void)[], applied: 0 };
  /** tests: the user's answer to the next modals (default: confirm) */
  modalAnswer: 'confirm' | 'cancel' = 'confirm';
  readonly storage = new Map<string, unknown>();
  /** how often each asynchronous wx API was called */
  readonly calls = new Map<string, number>();
  /** tests: the files the user picks at the next chooseMedia (none: the user cancels) */
  readonly photos: string[] = [];
  /** tests: change a downloadFile URL on its way (e.g. to make a signed link stale) */
  rewriteDownload: (url: string) => string = (url) => url;
  /** wx APIs the app called that the harness doesn't implement */
  readonly unimplemented = new Set<string>();
  current: PageInstance | null = null;

  private ctx!: vm.Context;
  private modules = new Map<string, { exports: any }>();
  private pageConfigs = new Map<string, Record<string, any>>();
  private pendingPageRoute: string | null = null;
  private app: any = null;
  private inflight = 0;
  private lastActivity = Date.now();
  private timers = new Set<NodeJS.Timeout>();
  private shortTimers = new Set<NodeJS.Timeout>();
  private sockets = new Set<WebSocket>();
  private doc: any = null;
  private onUnhandled = (reason: unknown) => this.record('unhandled', reason);
  private closed = false;

  constructor(private readonly opts: WeappOptions) {
    for (const [k, v] of Object.entries(opts.storage ?? {})) this.storage.set(k, v);
  }

  get pageName(): string {
    return this.current?.route ?? 'app';
  }

  record(kind: WeappEvent['kind'], err: unknown): void {
    const message = describe(err);
    this.events.push({ page: this.pageName, kind, message });
  }

  errors(): WeappEvent[] {
    return this.events.filter((e) => e.kind !== 'unimplemented');
  }

  // ---- boot ---------------------------------------------------------------------------------

  start(): void {
    process.on('unhandledRejection', this.onUnhandled);
    const self = this;
    const track = (cb: () => void) => () => {
      self.lastActivity = Date.now();
      try {
        cb();
      } catch (e) {
        self.record('error', e);
      }
    };
    const sandbox: Record<string, unknown> = {
      console: {
        log() {},
        info() {},
        debug() {},
        warn() {},
        error: (...args: unknown[]) => self.record('console.error', args.map(describe).join(' ')),
      },
      setTimeout: (cb: () => void, ms?: number, ...args: unknown[]) => {
        // a short timer is work in progress (React's scheduler, Taro's nextTick): settle() waits for it
        const short = (ms ?? 0) <= 100;
        const t = setTimeout(() => {
          self.timers.delete(t);
          if (short) self.shortTimers.delete(t);
          track(() => cb(...(args as [])))();
        }, ms);
        self.timers.add(t);
        if (short) self.shortTimers.add(t);
        return t;
      },
      clearTimeout: (t: NodeJS.Timeout) => {
        self.timers.delete(t);
        self.shortTimers.delete(t);
        clearTimeout(t);
      },
      setInterval: (cb: () => void, ms?: number) => {
        const t = setInterval(track(cb), ms);
        self.timers.add(t);
        return t;
      },
      clearInterval: (t: NodeJS.Timeout) => {
        self.timers.delete(t);
        clearInterval(t);
      },
      wx: this.makeWx(),
      App: (config: any) => {
        self.app = config;
      },
      Page: (config: any) => {
        if (self.pendingPageRoute) self.pageConfigs.set(self.pendingPageRoute, config);
      },
      Component: () => undefined,
      Behavior: (b: unknown) => b,
      getApp: () => self.app,
      getCurrentPages: () => (self.current ? [self.current] : []),
      requirePlugin: () => ({}),
    };
    this.ctx = vm.createContext(sandbox);
    // Android WeChat: no Intl, and the Date/Number locale methods can't take locales/options
    vm.runInContext(
      `delete globalThis.Intl;
       for (const [proto, names] of [[Date.prototype, ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']], [Number.prototype, ['toLocaleString']]]) {
         for (const name of names) {
           const orig = proto[name];
           proto[name] = function (...args) {
             if (args.length) throw new Error(name + ' with locales/options needs Intl, which Android WeChat lacks');
             return orig.call(this);
           };
         }
       }
       globalThis.global = globalThis;`,
      this.ctx,
    );
    // the phone's clock is the test's clock (HB_TEST_NOW): a vm context has its own Date, which the
    // test process's shifted Date does not reach
    const offset = installedClockOffset();
    if (offset) vm.runInContext(`(${shiftBrowserDate.toString()})(${offset})`, this.ctx);
    this.require('app.js');
    if (!this.app) throw new Error('app.js did not call App()');
    this.call(() => this.app.onLaunch?.({ path: 'pages/home/index', query: {}, scene: 1001 }));
    this.call(() => this.app.onShow?.({ path: 'pages/home/index', query: {}, scene: 1001 }));
    this.doc = this.findDocument();
  }

  async close(): Promise<void> {
    this.unload();
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.terminate();
    // let late rejections of this session surface before the listener goes
    await new Promise((r) => setTimeout(r, 20));
    process.off('unhandledRejection', this.onUnhandled);
  }

  /** CommonJS as WeChat does it: paths relative to the requiring file, `.js` optional. */
  private require(file: string): any {
    const rel = path.posix.normalize(file.endsWith('.js') ? file : `${file}.js`);
    const cached = this.modules.get(rel);
    if (cached) return cached.exports;
    const abs = path.join(this.opts.dist, rel);
    const code = fs.readFileSync(abs, 'utf8');
    const module = { exports: {} as any };
    this.modules.set(rel, module);
    const fn = vm.runInContext(`(function (require, module, exports) {${code}\n})`, this.ctx, { filename: abs });
    const dir = path.posix.dirname(rel);
    fn((p: string) => this.require(path.posix.join(dir, p)), module, module.exports);
    return module.exports;
  }

  private call<T>(fn: () => T): T | undefined {
    try {
      return fn();
    } catch (e) {
      this.record('error', e);
      return undefined;
    }
  }

  /**
   * Taro's DOM document (to find the nodes that listen to taps): grab webpack's require through a
   * probe chunk and look for the module exporting an object with getElementById/createElement.
   */
  private findDocument(): any {
    let req: any = null;
    const jsonp = (this.ctx.wx as any).webpackJsonp as unknown[][];
    jsonp.push([['__probe__'], {}, (r: any) => (req = r)]);
    if (!req) return null;
    for (const id of Object.keys(req.m)) {
      const src = String(req.m[id]);
      if (!src.includes('getElementById') || !src.includes('createElement')) continue;
      let exp: any;
      try {
        exp = req(id);
      } catch {
        continue;
      }
      for (const v of Object.values(exp ?? {})) {
        const cand = v as any;
        if (cand && typeof cand.getElementById === 'function' && typeof cand.createElement === 'function' && cand.nodeName === '#document') return cand;
        if (cand?.document && typeof cand.document.getElementById === 'function' && cand.document.nodeName === '#document') return cand.document;
      }
    }
    return null;
  }

  // ---- pages ----------------------------------------------------------------------------------

  /** Open a page (the previous one unloads, as after redirectTo) and wait until it settles. */
  async open(route: string, query: Record<string, string> = {}): Promise<PageInstance> {
    this.unload();
    route = route.replace(/^\//, '');
    if (!this.pageConfigs.has(route)) {
      this.pendingPageRoute = route;
      this.call(() => this.require(`${route}.js`));
      this.pendingPageRoute = null;
    }
    const config = this.pageConfigs.get(route);
    if (!config) throw new Error(`${route}.js did not call Page()`);
    const self = this;
    const inst: PageInstance = Object.assign(Object.create(null), config, {
      route,
      __route__: route,
      options: query,
      data: clone(config.data ?? {}),
      setData(patch: Record<string, unknown>, cb?: () => void) {
        self.lastActivity = Date.now();
        for (const [k, v] of Object.entries(patch)) applyPath(this.data, k, v);
        if (cb) setTimeout(() => self.call(cb), 0);
      },
    });
    this.current = inst;
    this.call(() => inst.onLoad?.call(inst, query));
    this.call(() => inst.onShow?.call(inst));
    this.call(() => inst.onReady?.call(inst));
    await this.settle();
    return inst;
  }

  unload(): void {
    const inst = this.current;
    if (!inst) return;
    this.call(() => inst.onHide?.call(inst));
    this.call(() => inst.onUnload?.call(inst));
    // (the page's own cleanup stops its polling and sockets; React finishes unmounting on timers)
    this.current = null;
  }

  /**
   * Wait until no request or short timer is pending and nothing happened for a moment, and the
   * page has rendered something (max `maxMs`: a page still empty then is reported by the test).
   */
  async settle(maxMs = 5000): Promise<void> {
    const until = Date.now() + maxMs;
    this.lastActivity = Date.now();
    while (Date.now() < until) {
      await new Promise((r) => setTimeout(r, 15));
      if (this.inflight === 0 && this.shortTimers.size === 0 && Date.now() - this.lastActivity > 60 && (!this.current || this.texts().length > 0)) return;
    }
  }

  texts(): string[] {
    return textsOf(this.current?.data.root);
  }

  /** The page's nodes that listen to taps, in document order. */
  clickables(): Clickable[] {
    const out: Clickable[] = [];
    const root = this.doc && this.current?.$taroPath ? this.doc.getElementById(this.current.$taroPath) : null;
    const walk = (n: any) => {
      if (!n) return;
      const h = n.__handlers?.tap;
      if (h && h.length)
        out.push({ sid: n.sid ?? n.uid ?? n.id, text: String(n.textContent ?? '').trim(), className: String(n.className ?? ''), nodeName: n.nodeName });
      for (const c of n.childNodes ?? []) walk(c);
    };
    walk(root);
    return out;
  }

  /** A tap on a node, dispatched through the page's `eh` like WeChat's view layer does. */
  async tap(sid: string): Promise<void> {
    const inst = this.current;
    if (!inst) throw new Error('no page');
    const target = { id: sid, dataset: { sid } };
    this.call(() => inst.eh({ type: 'tap', timeStamp: Date.now(), target, currentTarget: target, detail: { x: 1, y: 1 }, touches: [], changedTouches: [] }));
    await this.settle();
  }

  /** Type into an input (its `input` event, then `blur`). */
  async input(sid: string, value: string): Promise<void> {
    const inst = this.current;
    if (!inst) throw new Error('no page');
    const target = { id: sid, dataset: { sid } };
    this.call(() => inst.eh({ type: 'input', timeStamp: Date.now(), target, currentTarget: target, detail: { value, cursor: value.length } }));
    await this.settle(500);
  }

  /** The input nodes of the page (name → sid). */
  inputs(): { sid: string; name: string; nodeName: string }[] {
    const out: { sid: string; name: string; nodeName: string }[] = [];
    const root = this.doc && this.current?.$taroPath ? this.doc.getElementById(this.current.$taroPath) : null;
    const walk = (n: any) => {
      if (!n) return;
      if (n.nodeName === 'input' || n.nodeName === 'textarea')
        out.push({ sid: n.sid ?? n.uid, name: String(n.getAttribute?.('name') ?? n.props?.name ?? ''), nodeName: n.nodeName });
      for (const c of n.childNodes ?? []) walk(c);
    };
    walk(root);
    return out;
  }

  // ---- wx ---------------------------------------------------------------------------------------

  private toServer(url: string): string {
    return url.replace(/^https?:\/\/[^/]+/, this.opts.server);
  }

  private async post(pathname: string, body: unknown): Promise<any> {
    const res = await fetch(this.opts.server + pathname, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return res.json();
  }

  /** Run an async wx API the callback way (success/fail/complete), counting it as in flight. */
  private async<T>(name: string, opts: any, work: () => Promise<T>): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    this.inflight++;
    work()
      .then(
        (res) => {
          if (this.closed) return;
          this.call(() => opts?.success?.({ errMsg: `${name}:ok`, ...res }));
          this.call(() => opts?.complete?.({ errMsg: `${name}:ok`, ...res }));
        },
        (err) => {
          if (this.closed) return;
          const e = { errMsg: `${name}:fail ${err?.message ?? err}`, ...(err?.extra ?? {}) };
          this.call(() => opts?.fail?.(e));
          this.call(() => opts?.complete?.(e));
        },
      )
      .finally(() => {
        this.inflight--;
        this.lastActivity = Date.now();
      });
  }

  private makeWx(): Record<string, any> {
    const self = this;
    const ok = (name: string) => (opts?: any) => self.async(name, opts, async () => ({}));
    const sys = {
      brand: 'devtools',
      model: 'harness',
      pixelRatio: 2,
      screenWidth: 375,
      screenHeight: 812,
      windowWidth: 375,
      windowHeight: 812,
      statusBarHeight: 44,
      language: 'zh_CN',
      version: '8.0.50',
      system: 'Android 12',
      platform: 'android',
      SDKVersion: '3.6.0',
      safeArea: { left: 0, right: 375, top: 44, bottom: 778, width: 375, height: 734 },
      theme: 'light',
      enableDebug: false,
      host: { env: 'WeChat' },
    };
    const navigate = (api: string) => (opts: any) =>
      self.async(api, opts, async () => {
        self.navigations.push({ api, url: String(opts?.url ?? ''), from: self.pageName });
        return {};
      });
    const wx: Record<string, any> = {
      env: { USER_DATA_PATH: 'wxfile://usr' },
      getSystemInfoSync: () => ({ ...sys }),
      getSystemInfo: (o: any) => self.async('getSystemInfo', o, async () => ({ ...sys })),
      getWindowInfo: () => ({ ...sys }),
      getDeviceInfo: () => ({ ...sys }),
      getAppBaseInfo: () => ({ ...sys }),
      getSystemSetting: () => ({}),
      getAppAuthorizeSetting: () => ({}),
      getAccountInfoSync: () => ({ miniProgram: { appId: 'wx-harness', envVersion: 'release', version: '' } }),
      getMenuButtonBoundingClientRect: () => ({ width: 87, height: 32, top: 48, right: 365, bottom: 80, left: 278 }),
      canIUse: () => true,
      nextTick: (cb: () => void) => Promise.resolve().then(() => self.call(cb)),
      onAppShow() {},
      onAppHide() {},
      offAppShow() {},
      offAppHide() {},
      onError() {},
      onUnhandledRejection() {},
      onPageNotFound() {},
      onNetworkStatusChange() {},
      onMemoryWarning() {},
      onThemeChange() {},
      onWindowResize() {},
      offWindowResize() {},
      reportAnalytics() {},
      reportEvent() {},
      reportMonitor() {},
      getStorageSync: (k: string) => (self.storage.has(k) ? clone(self.storage.get(k)) : ''),
      setStorageSync: (k: string, v: unknown) => void self.storage.set(k, clone(v)),
      removeStorageSync: (k: string) => void self.storage.delete(k),
      clearStorageSync: () => self.storage.clear(),
      getStorageInfoSync: () => ({ keys: [...self.storage.keys()], currentSize: 0, limitSize: 10240 }),
      getStorage: (o: any) =>
        self.async('getStorage', o, async () => {
          if (!self.storage.has(o.key)) throw new Error('data not found');
          return { data: clone(self.storage.get(o.key)) };
        }),
      setStorage: (o: any) => self.async('setStorage', o, async () => (self.storage.set(o.key, clone(o.data)), {})),
      removeStorage: (o: any) => self.async('removeStorage', o, async () => (self.storage.delete(o.key), {})),
      request(o: any) {
        let aborted = false;
        self.async('request', o, async () => {
          const method = String(o.method ?? 'GET').toUpperCase();
          let url = self.toServer(String(o.url));
          let body: string | undefined;
          if (o.data !== undefined && o.data !== null) {
            if (method === 'GET') {
              const q = Object.entries(o.data)
                .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
                .join('&');
              if (q) url += (url.includes('?') ? '&' : '?') + q;
            } else body = typeof o.data === 'string' ? o.data : JSON.stringify(o.data);
          }
          const res = await fetch(url, { method, headers: o.header ?? {}, body });
          const text = await res.text();
          if (aborted) throw new Error('abort');
          let data: unknown = text;
          if ((o.dataType ?? 'json') === 'json') {
            try {
              data = JSON.parse(text);
            } catch {
              /* stays text, like WeChat */
            }
          }
          return { statusCode: res.status, data, header: Object.fromEntries(res.headers.entries()) };
        });
        return { abort: () => (aborted = true), onHeadersReceived() {}, offHeadersReceived() {} };
      },
      login: (o: any) => self.async('login', o, async () => ({ code: (await self.post('/sandbox/device/login', { user: self.opts.wechatUser })).code })),
      checkSession: ok('checkSession'),
      requestPayment: (o: any) =>
        self.async('requestPayment', o, async () => {
          const { timeStamp, nonceStr, signType, paySign } = o;
          const res = await self.post('/sandbox/device/pay', {
            timeStamp,
            nonceStr,
            package: o.package,
            signType,
            paySign,
            user: self.opts.wechatUser,
            action: 'confirm',
          });
          if (!String(res.errMsg ?? '').endsWith(':ok')) throw new Error(res.reason ?? res.errMsg);
          return {};
        }),
      requestSubscribeMessage: (o: any) =>
        self.async('requestSubscribeMessage', o, async () => Object.fromEntries((o.tmplIds ?? []).map((id: string) => [id, 'accept']))),
      downloadFile: (o: any) =>
        self.async('downloadFile', o, async () => {
          const res = await fetch(self.toServer(self.rewriteDownload(String(o.url))), { headers: o.header ?? {} });
          const buf = Buffer.from(await res.arrayBuffer());
          const file = path.join(os.tmpdir(), `weapp-dl-${process.pid}-${Date.now()}`);
          fs.writeFileSync(file, buf);
          return { statusCode: res.status, tempFilePath: file };
        }),
      uploadFile: (o: any) =>
        self.async('uploadFile', o, async () => {
          const form = new FormData();
          for (const [k, v] of Object.entries(o.formData ?? {})) form.append(k, String(v));
          form.append(o.name ?? 'file', new Blob([fs.readFileSync(o.filePath)], { type: 'image/jpeg' }), path.basename(o.filePath));
          const res = await fetch(self.toServer(String(o.url)), { method: 'POST', headers: o.header ?? {}, body: form });
          return { statusCode: res.status, data: await res.text() };
        }),
      openDocument: (o: any) =>
        self.async('openDocument', o, async () => {
          if (!fs.existsSync(o.filePath)) throw new Error('file not found');
          // like WeChat, refuse what isn't a document of that type (e.g. a JSON error body)
          const head = fs.readFileSync(o.filePath).subarray(0, 4).toString('latin1');
          if ((o.fileType === 'pdf' && head !== '%PDF') || (o.fileType === 'xlsx' && !head.startsWith('PK'))) throw new Error('filetype not supported');
          return {};
        }),
      previewImage: ok('previewImage'),
      chooseMessageFile: (o: any) =>
        self.async('chooseMessageFile', o, async () => {
          throw new Error('cancel');
        }),
      chooseImage: (o: any) =>
        self.async('chooseImage', o, async () => {
          throw new Error('cancel');
        }),
      chooseMedia: (o: any) =>
        self.async('chooseMedia', o, async () => {
          const picked = self.photos.splice(0, o?.count ?? 9);
          if (!picked.length) throw new Error('cancel');
          return { type: 'image', tempFiles: picked.map((f) => ({ tempFilePath: f, size: fs.statSync(f).size, fileType: 'image' })) };
        }),
      getFileSystemManager: () => ({
        readFileSync: (p: string, enc?: string) => fs.readFileSync(p, enc as BufferEncoding),
        readFile: (o: any) => self.async('readFile', o, async () => ({ data: fs.readFileSync(o.filePath, o.encoding) })),
        writeFileSync: () => undefined,
        writeFile: ok('writeFile'),
        saveFile: ok('saveFile'),
        accessSync: () => undefined,
        access: ok('access'),
        getFileInfo: (o: any) => self.async('getFileInfo', o, async () => ({ size: fs.statSync(o.filePath).size, digest: '' })),
      }),
      connectSocket(o: any) {
        const url = self.toServer(String(o.url).replace(/^ws/, 'http')).replace(/^http/, 'ws');
        const ws = new WebSocket(url);
        self.sockets.add(ws);
        const on = (ev: string, wrap: (...a: any[]) => any) => (cb: (x: any) => void) => ws.on(ev, (...a: any[]) => self.call(() => cb(wrap(...a))));
        self.async('connectSocket', o, async () => ({}));
        return {
          onOpen: on('open', () => ({ header: {} })),
          onMessage: on('message', (d: Buffer) => ({ data: d.toString() })),
          onClose: on('close', (code: number, reason: Buffer) => ({ code, reason: String(reason) })),
          onError: on('error', (e: Error) => ({ errMsg: e.message })),
          send: (x: any) => self.call(() => (ws.send(x.data), x.success?.({ errMsg: 'sendSocketMessage:ok' }))),
          close: (x: any) => self.call(() => (ws.close(), x?.success?.({ errMsg: 'closeSocket:ok' }))),
        };
      },
      showToast: (o: any) => self.async('showToast', o, async () => (self.toasts.push(String(o?.title ?? '')), {})),
      hideToast: ok('hideToast'),
      showLoading: ok('showLoading'),
      hideLoading: ok('hideLoading'),
      showModal: (o: any) =>
        self.async(
          'showModal',
          o,
          async () => (
            self.modals.push({ title: o?.title, content: o?.content }),
            { confirm: self.modalAnswer === 'confirm', cancel: self.modalAnswer === 'cancel', content: o?.editable ? '测试' : undefined }
          ),
        ),
      showActionSheet: (o: any) => self.async('showActionSheet', o, async () => ({ tapIndex: 0 })),
      navigateTo: navigate('navigateTo'),
      redirectTo: navigate('redirectTo'),
      switchTab: navigate('switchTab'),
      reLaunch: navigate('reLaunch'),
      navigateBack: navigate('navigateBack'),
      setNavigationBarTitle: ok('setNavigationBarTitle'),
      setNavigationBarColor: ok('setNavigationBarColor'),
      stopPullDownRefresh: ok('stopPullDownRefresh'),
      startPullDownRefresh: ok('startPullDownRefresh'),
      pageScrollTo: ok('pageScrollTo'),
      setClipboardData: ok('setClipboardData'),
      makePhoneCall: ok('makePhoneCall'),
      vibrateShort: ok('vibrateShort'),
      getNetworkType: (o: any) => self.async('getNetworkType', o, async () => ({ networkType: 'wifi' })),
      getSetting: (o: any) => self.async('getSetting', o, async () => ({ authSetting: {}, subscriptionsSetting: { mainSwitch: true } })),
      getPrivacySetting: (o: any) => self.async('getPrivacySetting', o, async () => ({ needAuthorization: false, privacyContractName: '' })),
      onNeedPrivacyAuthorization() {},
      requirePrivacyAuthorize: ok('requirePrivacyAuthorize'),
      compressImage: (o: any) => self.async('compressImage', o, async () => ({ tempFilePath: o.src })),
      getImageInfo: (o: any) => self.async('getImageInfo', o, async () => ({ width: 100, height: 100, path: o.src, type: 'jpeg' })),
      createSelectorQuery: () => {
        const q: any = {
          in: () => q,
          select: () => q,
          selectAll: () => q,
          selectViewport: () => q,
          boundingClientRect: () => q,
          scrollOffset: () => q,
          fields: () => q,
          exec: (cb?: (r: unknown[]) => void) => cb && setTimeout(() => self.call(() => cb([])), 0),
        };
        return q;
      },
      createIntersectionObserver: () => ({ relativeTo: () => ({}), relativeToViewport: () => ({ observe() {} }), observe() {}, disconnect() {} }),
      getUpdateManager: () => ({
        onCheckForUpdate() {},
        onUpdateReady: (cb: () => void) => self.update.ready.push(() => self.call(cb)),
        onUpdateFailed: (cb: () => void) => self.update.failed.push(() => self.call(cb)),
        applyUpdate: () => void self.update.applied++,
      }),
    };
    // anything else the app calls is recorded (and answers ok), so the test can list gaps
    return new Proxy(wx, {
      get(target, key) {
        if (typeof key !== 'string' || key in target || key === 'then' || key === 'webpackJsonp' || key === 'toJSON' || !/^[a-z]\w*$/.test(key))
          return (target as any)[key];
        return (opts?: any) => {
          self.unimplemented.add(key);
          self.events.push({ page: self.pageName, kind: 'unimplemented', message: `wx.${key}` });
          if (opts && typeof opts === 'object') self.async(key, opts, async () => ({}));
          return undefined;
        };
      },
    });
  }
}

/** Errors from the VM context aren't `instanceof Error` here: recognise them by their stack. */
function describe(v: unknown): string {
  if (v && typeof v === 'object' && typeof (v as any).stack === 'string') return (v as any).stack.split('\n').slice(0, 4).join(' | ');
  if (v && typeof v === 'object' && typeof (v as any).message === 'string') return `${(v as any).code ?? ''} ${(v as any).message}`.trim();
  return typeof v === 'string' ? v : safeJson(v);
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
