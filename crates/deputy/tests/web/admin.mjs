// The admin center's bulk edit, folder permissions, who-can-do-what and audit
// log pages in Debian's Chromium (playwright-core), with keyboard navigation,
// screenshots at 1280x800 and 390x844, and an axe-core check of every main
// page (no serious or critical violation). Run by crates/deputy/tests/web.rs
// with DEPUTY_URL, ADMIN_USER, ADMIN_PASSWORD and SCREENSHOTS; at each
// "STEP <name>" it waits for "ok" on stdin while the Rust test checks the
// change with `deputy shell`.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const base = env('DEPUTY_URL');
const shots = env('SCREENSHOTS');
mkdirSync(shots, { recursive: true });
// axe-core from the pinned npm package (package.json), never a CDN.
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const stdin = createInterface({ input: process.stdin });
const lines = stdin[Symbol.asyncIterator]();
async function step(name) {
  console.log(`STEP ${name}`);
  const { value, done } = await lines.next();
  if (done || value.trim() !== 'ok') throw new Error(`the Rust test refused step ${name}: ${value}`);
}

function expect(cond, message) {
  if (!cond) throw new Error(message);
}

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/// Screenshots of the current page at both sizes, then back to the desktop size.
async function shoot(page, name) {
  await page.setViewportSize(DESKTOP);
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  await page.setViewportSize(PHONE);
  await page.screenshot({ path: join(shots, `${name}-phone.png`), fullPage: true });
  // At phone width nothing may scroll sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow <= 1, `${name} scrolls sideways by ${overflow}px at 390px`);
  await page.setViewportSize(DESKTOP);
}

/// Runs axe-core in the page (evaluated over the DevTools protocol, so the
/// page's CSP, which forbids inline scripts, needs no exception) and fails on
/// any serious or critical violation.
const checked = [];
async function axe(page, name) {
  await page.evaluate(axeSource);
  const results = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const detail = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  expect(bad.length === 0, `axe found serious or critical violations on ${name}:\n${detail.join('\n')}`);
  checked.push(name);
}

async function checkedBoxes(page) {
  return page.locator('input[name="mailbox"]:checked').evaluateAll((xs) =>
    xs.map((x) => x.labels[0].textContent.replace(/^Select /, '')));
}

const userDataDir = mkdtempSync(join(tmpdir(), 'deputy-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: DESKTOP,
});
context.setDefaultTimeout(15000);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${base}/ecp/signin`);
  await axe(page, 'signin');
  await page.getByLabel('User name').fill(env('ADMIN_USER'));
  await page.getByLabel('Password').fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ecp/recipients');
  console.log('PASS admin signs in');

  // Keyboard: the first Tab reaches the skip link; Tab on to a row's link, Enter opens it.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => document.activeElement.textContent) === 'Skip to main content',
    'the first Tab stop is not the skip link');
  let onRow = false;
  for (let i = 0; i < 80 && !onRow; i++) {
    await page.keyboard.press('Tab');
    onRow = await page.evaluate(() => !!document.activeElement.closest('table.list tbody a'));
  }
  expect(onRow, 'Tab never reached a link in the recipients list');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  expect(outline !== 'none', 'the focused row link shows no focus outline');
  const target = await page.evaluate(() => document.activeElement.textContent);
  await page.keyboard.press('Enter');
  await page.waitForURL('**/delegation');
  await page.getByRole('heading', { name: `Mailbox delegation: ${target}` }).waitFor();
  console.log('PASS keyboard: Tab to a list row link and Enter opens it');

  // Bulk edit on the Shared tab: click, Ctrl+click and Shift+click select rows.
  await page.goto(`${base}/ecp/recipients?tab=shared`);
  await axe(page, 'recipients');
  const row = (name) => page.getByRole('row').filter({ has: page.getByRole('link', { name, exact: true }) })
    .getByRole('cell').nth(2);
  await row('Billing').click();
  await row('Support').click({ modifiers: ['Shift'] });
  let picked = await checkedBoxes(page);
  expect(picked.join() === 'Billing,Finance,Sales,Support', `Shift+click selected ${picked}`);
  await row('Finance').click({ modifiers: ['Control'] });
  picked = await checkedBoxes(page);
  expect(picked.join() === 'Billing,Sales,Support', `Ctrl+click left ${picked}`);
  await page.getByLabel('Action').selectOption('add');
  await page.getByLabel('Permission').selectOption({ label: 'Full Access' });
  await page.getByLabel('Delegate', { exact: true }).selectOption({ label: 'Rob Jones (rob@contoso.test)' });
  await shoot(page, 'bulk-selection');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('Rob Jones now has Full Access on Billing, Sales, Support.').waitFor();
  console.log('PASS bulk edit adds Full Access on three shared mailboxes');
  await step('bulk');

  // Mixed types: a user mailbox and a shared mailbox are refused, nothing changes.
  await page.goto(`${base}/ecp/recipients?tab=mailboxes`);
  await page.getByLabel('Select Mary Smith').check();
  await page.getByLabel('Select Sales').check();
  await page.getByLabel('Permission').selectOption({ label: 'Send As' });
  await page.getByLabel('Delegate', { exact: true }).selectOption({ label: 'Rob Jones (rob@contoso.test)' });
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText("Bulk edit won't work because the selected mailboxes aren't all the same type").waitFor();
  await shoot(page, 'recipients-mixed');
  console.log('PASS mixed mailbox types get the warning');
  await step('mixed');

  // Folder permissions of Mary's Calendar: add Rob as Editor and delegate,
  // see the core refuse Delegate with Reviewer, then change him to Reviewer.
  await page.getByRole('link', { name: 'Mary Smith', exact: true }).click();
  await page.getByRole('link', { name: 'Folder permissions' }).click();
  await page.getByRole('heading', { name: 'Folder permissions: Mary Smith' }).waitFor();
  await axe(page, 'delegation-folders');
  await page.getByLabel('User or group').selectOption({ label: 'Rob Jones (User mailbox)' });
  await page.getByLabel('Access rights', { exact: true }).selectOption('Editor');
  await page.locator('#add-delegate').check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByText('Rob Jones now has Editor on mary:\\Calendar.').waitFor();
  await page.getByLabel('Access rights for Rob Jones').selectOption('Reviewer');
  await page.getByRole('button', { name: 'Save the permission of Rob Jones' }).click();
  await page.getByText('SharingPermissionFlags can be set only together with the Editor access right.').waitFor();
  await page.getByLabel('Access rights for Rob Jones').selectOption('Reviewer');
  await page.getByLabel('Delegate (Rob Jones)').uncheck();
  await page.getByRole('button', { name: 'Save the permission of Rob Jones' }).click();
  await page.getByText('Rob Jones now has Reviewer on mary:\\Calendar.').waitFor();
  await axe(page, 'folders');
  await shoot(page, 'folders');
  console.log('PASS Calendar permission changed through the page');
  await step('folder');

  // Who can do what: Rob's access, including Send As through his security group.
  await page.getByRole('navigation', { name: 'Features' }).getByRole('link', { name: 'Who can do what' }).click();
  await page.getByLabel('User', { exact: true }).fill('rob');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('heading', { name: 'What Rob Jones can open or send from' }).waitFor();
  const finance = page.getByRole('row').filter({ hasText: 'Finance' });
  await finance.filter({ hasText: 'Rob Jones → Helpdesk Team' }).filter({ hasText: 'Send As' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'Billing' }).filter({ hasText: 'Full Access' }).filter({ hasText: 'Direct' }).waitFor();
  await axe(page, 'access-user');
  await shoot(page, 'access');
  await page.getByLabel('User', { exact: true }).fill('');
  await page.getByLabel('Mailbox or group').fill('Finance');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByRole('heading', { name: 'Who can act on Finance' }).waitFor();
  await page.getByRole('row').filter({ hasText: 'Rob Jones' }).filter({ hasText: 'Helpdesk Team' }).waitFor();
  await page.getByLabel('User', { exact: true }).fill('rob');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.getByText('allowed: SendAs granted to group Helpdesk Team').first().waitFor();
  await axe(page, 'access-test');
  console.log("PASS Rob's access is explained with the group path");

  // The audit log, filtered.
  await page.getByRole('navigation', { name: 'Features' }).getByRole('link', { name: 'Audit log' }).click();
  await page.getByLabel('Cmdlet').fill('Add-MailboxPermission');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Audit records (3)').waitFor();
  await page.getByLabel('Object or mailbox').fill('Sales');
  await page.getByLabel('Caller').fill('admin@');
  const today = new Date().toISOString().slice(0, 10);
  await page.getByLabel('From (UTC)').fill(today);
  await page.getByLabel('To (UTC)').fill(today);
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Audit records (1)').waitFor();
  await axe(page, 'audit');
  await shoot(page, 'audit');
  await page.getByLabel('From (UTC)').fill('2000-01-01');
  await page.getByLabel('To (UTC)').fill('2000-01-02');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.getByText('Audit records (0)').waitFor();
  console.log('PASS the audit log filters by cmdlet, object, caller and date');

  // The remaining main pages: screenshots and axe.
  await page.goto(`${base}/ecp/recipients`);
  await shoot(page, 'recipients');
  await page.getByRole('link', { name: 'Mary Smith', exact: true }).click();
  // Each click is a navigation: wait for the new page before checking it.
  await page.getByRole('heading', { name: 'Mailbox delegation: Mary Smith' }).waitFor();
  await axe(page, 'delegation');
  await shoot(page, 'delegation');
  await page.getByRole('link', { name: 'Add Full Access delegate' }).click();
  await page.getByLabel('Search users and groups').waitFor();
  await axe(page, 'picker');
  await shoot(page, 'picker');
  console.log(`PASS axe: no serious or critical violations on ${checked.join(', ')}`);
  console.log('DONE');
} finally {
  await context.close();
  stdin.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
