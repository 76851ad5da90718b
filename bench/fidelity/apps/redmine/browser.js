// Redmine's flow in headless Chromium (bench/fidelity/lib/chromium.js): log in, follow the
// project's "New issue" link, submit the issue form (multipart), land on /issues/ID.
'use strict';
const path = require('path');
const { run } = require(path.join(__dirname, '..', '..', 'lib', 'chromium.js'));

run(async (page, base, user, pass) => {
  await page.goto(base + '/login');
  await page.fill('#username', user);
  await page.fill('#password', pass);
  await Promise.all([page.waitForNavigation(), page.click('#login-submit')]);
  if (!(await page.$('a.logout'))) throw new Error('login failed: ' + page.url());
  await page.goto(base + '/projects/fidelity/issues');
  await Promise.all([page.waitForNavigation(), page.click('a.new-issue')]);
  await page.fill('#issue_subject', 'Fidelity issue by ' + user + ' (chromium)');
  await page.fill('#issue_description', 'Filed by ' + user + ' in Chromium.');
  await Promise.all([page.waitForNavigation(), page.click('input[name=commit]')]);
  const m = new URL(page.url()).pathname.match(/^\/issues\/(\d+)$/);
  if (!m) throw new Error('issue not created: ' + page.url());
  return 'issue ' + m[1];
});
