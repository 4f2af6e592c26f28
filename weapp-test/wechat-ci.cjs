/**
 * WeChat's own compiler and code-quality checks (miniprogram-ci, the DevTools compiler) on a
 * mini-program project, offline. Run as a child process (miniprogram-ci leaves a file watcher
 * running and logs a harmless failed fetch of servicewechat.com's "white ext list"):
 *   node weapp-test/wechat-ci.cjs <projectPath> <privateKeyPath> <out.json> [--no-compile]
 * Writes { compiled: { zipBytes, ms } | null, quality: [...checks], qualityMs } to out.json.
 */
const fs = require('node:fs');
const path = require('node:path');
const ci = require('miniprogram-ci');

async function main() {
  const [projectPath, privateKeyPath, out, flag] = process.argv.slice(2);
  const { appid } = JSON.parse(fs.readFileSync(path.join(projectPath, 'project.config.json'), 'utf8'));
  const project = new ci.Project({
    appid,
    type: 'miniProgram',
    projectPath,
    privateKeyPath,
    ignores: ['node_modules/**/*'],
    // what WeChat's servers would answer for this appid: the standard package limits (MB)
    attr: async () => ({
      platform: true,
      appType: 0,
      isGameTourist: false,
      released: false,
      setting: { MaxCodeSize: 2, MaxSubpackageSubCodeSize: 2, MaxSubpackageFullCodeSize: 20 },
    }),
  });
  const result = { compiled: null, quality: null, qualityMs: 0 };
  if (flag !== '--no-compile') {
    const t0 = Date.now();
    const zip = path.join(path.dirname(out), 'compiled.zip');
    const files = await ci.getCompiledResult({ project, setting: {}, onProgressUpdate() {} }, zip);
    result.compiled = { files: Object.keys(files || {}).length, zipBytes: fs.statSync(zip).size, ms: Date.now() - t0 };
  }
  const t1 = Date.now();
  result.quality = await ci.checkCodeQuality(project);
  result.qualityMs = Date.now() - t1;
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  },
);
