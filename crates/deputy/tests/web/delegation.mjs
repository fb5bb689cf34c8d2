// Drives Debian's Chromium (headless, through playwright-core) against a
// running `deputy serve`: run by crates/deputy/tests/web.rs, which passes
// DEPUTY_URL, ADMIN_USER, ADMIN_PASSWORD, USER_LOGIN, USER_PASSWORD and
// SCREENSHOTS in the environment. At each "STEP <name>" line it prints, the
// script waits for a line on stdin ("ok" to go on) so the Rust test can check
// the change with `deputy shell` in between.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync } from 'node:fs';
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

const userDataDir = mkdtempSync(join(tmpdir(), 'deputy-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 800 },
});
context.setDefaultTimeout(15000);
try {
  const page = context.pages()[0] ?? (await context.newPage());

  // Sign-in: /ecp/ leads to the form; an administrator gets a session.
  await page.goto(`${base}/ecp/`);
  expect(page.url().endsWith('/ecp/signin'), `expected the sign-in form, got ${page.url()}`);
  await page.screenshot({ path: join(shots, 'signin.png') });
  await page.getByLabel('User name').fill(env('ADMIN_USER'));
  await page.getByLabel('Password').fill(env('ADMIN_PASSWORD'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/ecp/recipients');
  const session = (await context.cookies()).find((c) => c.name === 'ecp_session');
  expect(session && session.httpOnly && session.sameSite === 'Strict' && session.path === '/ecp',
    `session cookie not HttpOnly/SameSite=Strict/Path=/ecp: ${JSON.stringify(session)}`);
  console.log('PASS admin signs in');

  // Recipients: find Mary by part of her name.
  await page.getByLabel('Search mailboxes').fill('mar');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL('**/ecp/recipients?tab=mailboxes&q=mar');
  await page.screenshot({ path: join(shots, 'recipients.png') });
  // The list, not the page: the bulk edit form offers every possible delegate.
  expect(!(await page.locator('table.list').innerText()).includes('Rob Jones'), 'the search for "mar" also listed Rob');
  await page.getByRole('link', { name: 'Mary Smith' }).click();
  await page.getByRole('heading', { name: 'Mailbox delegation: Mary Smith' }).waitFor();
  const delegationUrl = page.url();
  console.log('PASS Mary found by search');

  // Grant Rob Send on Behalf through the picker.
  await page.getByRole('link', { name: 'Add Send on Behalf delegate' }).click();
  await page.getByLabel('Search users and groups').fill('rob');
  await page.getByRole('button', { name: 'Search' }).click();
  // The search is a GET navigation: a screenshot taken mid-navigation fails.
  await page.waitForURL('**/pick?*q=rob*');
  await page.screenshot({ path: join(shots, 'picker.png') });
  await page.getByLabel(/^Rob Jones/).check();
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByText('Rob Jones now has Send on Behalf on Mary Smith.').waitFor();
  await page.getByRole('button', { name: 'Remove Rob Jones from Send on Behalf' }).waitFor();
  await page.screenshot({ path: join(shots, 'delegation.png'), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(shots, 'delegation-phone.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  console.log('PASS Send on Behalf granted through the page');
  await step('granted');

  // Remove it through the page.
  await page.getByRole('button', { name: 'Remove Rob Jones from Send on Behalf' }).click();
  await page.getByText('Rob Jones no longer has Send on Behalf on Mary Smith.').waitFor();
  console.log('PASS Send on Behalf removed through the page');
  await step('removed');

  // A POST without the CSRF token: the real form, its hidden token taken out.
  await page.goto(`${delegationUrl}/pick?perm=sendonbehalf&q=rob`);
  await page.getByLabel(/^Rob Jones/).check();
  await page.locator('form[action$="/add"] input[name="csrf"]').evaluate((e) => e.remove());
  const [refused] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/delegation/add')),
    page.getByRole('button', { name: 'Add', exact: true }).click(),
  ]);
  expect(refused.status() === 403, `a POST without the CSRF token answered ${refused.status()}`);
  await page.getByText("security token", { exact: false }).waitFor();
  await page.goto(delegationUrl);
  expect(!(await page.getByRole('button', { name: 'Remove Rob Jones from Send on Behalf' }).count()),
    'the POST without the CSRF token changed the list');
  console.log('PASS a POST without the CSRF token is refused with 403');

  // Sign out, then a non-administrator is refused.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForURL('**/ecp/signin');
  await page.goto(`${base}/ecp/recipients`);
  expect(page.url().endsWith('/ecp/signin'), 'the session survived sign-out');
  await page.getByLabel('User name').fill(env('USER_LOGIN'));
  await page.getByLabel('Password').fill(env('USER_PASSWORD'));
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/ecp/signin') && r.request().method() === 'POST'),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
  expect(answer.status() === 403, `a non-admin sign-in answered ${answer.status()}`);
  await page.getByText("this account isn't an administrator of the organization").waitFor();
  await page.screenshot({ path: join(shots, 'refused.png') });
  expect(!(await context.cookies()).some((c) => c.name === 'ecp_session' && c.value),
    'a non-admin got a session cookie');
  console.log('PASS a non-admin sign-in is refused');
  console.log('DONE');
} finally {
  await context.close();
  stdin.close();
  rmSync(userDataDir, { recursive: true, force: true });
}
