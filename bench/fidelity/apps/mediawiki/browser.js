// MediaWiki's flow in headless Chromium (bench/fidelity/lib/chromium.js): log in through
// Special:UserLogin, open the edit form of a new page titled Amp-<uuid>, save it (the form is
// multipart), land on the page and follow its "Permanent link" (oldid=REVISION).
'use strict';
const path = require('path');
const crypto = require('crypto');
const { run } = require(path.join(__dirname, '..', '..', 'lib', 'chromium.js'));

run(async (page, base, user, pass) => {
  await page.goto(base + '/index.php?title=Main_Page');
  await Promise.all([page.waitForNavigation(), page.click('#pt-login a')]);
  await page.fill('#wpName1', user);
  await page.fill('#wpPassword1', pass);
  await Promise.all([page.waitForNavigation(), page.click('#wpLoginAttempt')]);
  if (!(await page.$('#pt-logout'))) throw new Error('login failed: ' + page.url());
  const title = 'Amp-' + crypto.randomUUID();
  await page.goto(base + '/index.php?title=' + encodeURIComponent(title) + '&action=edit');
  await page.fill('#wpTextbox1', 'Written by ' + user + ' in Chromium.\n\n== Notes ==\nA page of the amp fidelity suite.');
  await page.fill('#wpSummary', 'fidelity page (chromium)');
  await Promise.all([page.waitForNavigation(), page.click('#wpSave')]);
  if (page.url().includes('action=submit') || !(await page.content()).includes('Written by ' + user)) {
    throw new Error('page not saved: ' + page.url());
  }
  await Promise.all([page.waitForNavigation(), page.click('#t-permalink a')]);
  const oldid = new URL(page.url()).searchParams.get('oldid');
  if (!oldid) throw new Error('no permanent link followed: ' + page.url());
  return title + ' revision ' + oldid;
});
