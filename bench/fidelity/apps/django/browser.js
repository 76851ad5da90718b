// Django admin's flow in headless Chromium: log in, add a note (the admin's multipart form),
// "Save and continue editing", land on the note's change page.
'use strict';
const path = require('path');
const { run } = require(path.join(__dirname, '..', '..', 'lib', 'chromium.js'));

run(async (page, base, user, pass) => {
  await page.goto(base + '/admin/');
  if (!page.url().includes('/admin/login/')) throw new Error('not sent to the login page: ' + page.url());
  await page.fill('#id_username', user);
  await page.fill('#id_password', pass);
  await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')]);
  if (!page.url().endsWith('/admin/')) throw new Error('login failed: ' + page.url());
  await page.click('a[href="/admin/notes/note/add/"]');
  await page.waitForSelector('#id_title');
  await page.fill('#id_title', 'note by ' + user + ' (chromium)');
  await page.fill('#id_body', 'written by the fidelity browser flow');
  await Promise.all([page.waitForNavigation(), page.click('input[name=_continue]')]);
  const body = await page.content();
  if (!/\/change\/$/.test(page.url()) || !body.includes('was added successfully')) throw new Error('note not saved: ' + page.url());
  return new URL(page.url()).pathname;
});
