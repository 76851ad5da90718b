// Miniflux's flow in headless Chromium: log in, add a subscription (a feed URL with a fresh UUID),
// land on the new feed's page.
'use strict';
const crypto = require('crypto');
const path = require('path');
const { run } = require(path.join(__dirname, '..', '..', 'lib', 'chromium.js'));

run(async (page, base, user, pass) => {
  await page.goto(base + '/');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', pass);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  if (!page.url().endsWith('/unread')) throw new Error('login failed: ' + page.url());
  await page.goto(base + '/subscribe');
  const name = crypto.randomUUID();
  await page.fill('input[name=url]', 'http://feeds.fidelity.example/' + name + '.xml');
  await Promise.all([page.waitForNavigation(), page.click('form[action="/subscribe"] button[type=submit]')]);
  if (!/\/feed\/\d+\/entries$/.test(page.url()) || !(await page.content()).includes(name)) throw new Error('feed not saved: ' + page.url());
  return new URL(page.url()).pathname;
});
