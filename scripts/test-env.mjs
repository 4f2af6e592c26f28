#!/usr/bin/env node
// First step of `npm test`: make sure what the browser tests need is on the machine.
// The browser tests drive Debian's Chromium (/usr/bin/chromium) and need CJK fonts for their
// screenshots. When either is missing we install both from Debian's packages if we can (root
// with apt-get); otherwise we stop at once with the one command to run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const APT_PACKAGES = ['chromium', 'fonts-noto-cjk'];
const INSTALL_HINT = `sudo apt-get update && sudo apt-get install -y ${APT_PACKAGES.join(' ')}`;

/** What the browser tests need that this machine lacks (Debian package names). */
export function missingPackages() {
  const missing = [];
  let chromiumOk = false;
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
    chromiumOk = true;
  } catch {
    /* not installed */
  }
  if (!chromiumOk) missing.push('chromium');
  const fonts = spawnSync('fc-list', [':lang=zh', 'family'], { encoding: 'utf8' });
  if (fonts.status !== 0 || !/Noto Sans CJK/i.test(fonts.stdout ?? '')) missing.push('fonts-noto-cjk');
  return missing;
}

function canInstall() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return false;
  return spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return r.status === 0;
}

export function ensureBrowser() {
  const missing = missingPackages();
  if (!missing.length) return true;
  if (!canInstall()) {
    console.error(`The browser tests need ${missing.join(' and ')} from Debian. Run:\n\n  ${INSTALL_HINT}\n\nthen npm test again.`);
    return false;
  }
  console.log(`Installing ${APT_PACKAGES.join(' ')} from Debian for the browser tests…`);
  // apt may be busy for a moment on a machine that has just booted: try a few times
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (run('apt-get', ['update', '-qq']) && run('apt-get', ['install', '-y', '-qq', ...APT_PACKAGES]) && !missingPackages().length) return true;
    spawnSync('sleep', [String(5 * attempt)]);
  }
  console.error(`Installing ${APT_PACKAGES.join(' ')} failed. Run:\n\n  ${INSTALL_HINT}\n\nthen npm test again.`);
  return false;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exit(ensureBrowser() ? 0 : 1);
}
