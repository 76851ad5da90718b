// bench/fidelity/lib/chromium.js: headless Chromium (/usr/bin/chromium) driven by playwright-core
// from npm (installed by lib/install-playwright.sh into $FIDELITY_NODE, no browser download).
// An app's browser script calls run(async (page, base) => { ... }) and exits non-zero on failure.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

const NODE = process.env.FIDELITY_NODE || path.join(os.homedir(), '.cache', 'amp-fidelity', 'node');
const { chromium } = require(path.join(NODE, 'node_modules', 'playwright-core'));

async function run(flow) {
  const [base, user, pass] = process.argv.slice(2);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'fidelity-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  let code = 0;
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(60000);
    const out = await flow(page, base.replace(/\/$/, ''), user, pass);
    if (out) console.log(out);
  } catch (e) {
    console.error('browser flow failed: ' + (e && e.message ? e.message : e));
    code = 1;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(code);
}

module.exports = { run };
