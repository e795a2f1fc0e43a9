// Drives the example SPA (examples/spa) in the system Chromium against a
// running Portier; started by scripts/spa-test.sh, which sets:
//   SPA_API            the Portier GraphQL endpoint
//   SPA_ORIGIN         the SPA, served from the origin in PORTIER_CORS_ORIGINS
//   SPA_OTHER_ORIGIN   the same SPA from an origin Portier does not allow
//   SPA_SERVER_LOG     Portier's log, where e-mails are written (no SMTP)
//   SPA_ADMIN_EMAIL / SPA_ADMIN_PASSWORD   the bootstrap staff ADMIN
//   SPA_TTL_SECONDS    PORTIER_ACCESS_TOKEN_TTL of the server, in seconds
//   CHROMIUM           the browser (playwright-core downloads none)
//
// The data are seeded through the public GraphQL API only, as a provider's
// staff would: a customer account, its customer admin (a contact whose
// login is activated with the mailed link), and a second account on which
// the same person holds PORTAL_ACCESS only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { chromium } from 'playwright-core';

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run scripts/spa-test.sh`);
  return v;
};
const API = env('SPA_API');
const SPA = env('SPA_ORIGIN');
const OTHER = env('SPA_OTHER_ORIGIN');
const TTL = Number(env('SPA_TTL_SECONDS')) * 1000;
// Portier accepts an access token up to 5 s past its expiry (clock skew).
const LEEWAY = 5000;

const CLARA = { email: 'clara@kunde.example', username: 'clara', name: 'Clara Admin', password: 'spa-test-clara-password-1' };

async function gql(query, variables = {}, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(API, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

async function ok(query, variables, token) {
  const body = await gql(query, variables, token);
  if (body.errors) throw new Error(`${query.slice(0, 60)}…: ${JSON.stringify(body.errors)}`);
  return body.data;
}

// The link in the newest mail to `to` that Portier wrote to its log.
async function mailedToken(to) {
  for (let i = 0; i < 100; i++) {
    const lines = (await readFile(env('SPA_SERVER_LOG'), 'utf8')).split('\n');
    for (const line of lines.reverse()) {
      if (!line.startsWith('{')) continue;
      const rec = JSON.parse(line);
      if (rec.msg === 'outbox message (no transport configured)' && rec.to === to) {
        const m = /\?token=([A-Za-z0-9_%.-]+)/.exec(rec.body);
        if (m) return decodeURIComponent(m[1]);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no mail with a link to ${to} in the server log`);
}

async function seed() {
  const { login } = await ok(`mutation($i: LoginInput!) { login(input: $i) { accessToken } }`,
    { i: { login: env('SPA_ADMIN_EMAIL'), password: env('SPA_ADMIN_PASSWORD') } });
  const admin = login.accessToken;
  const acct = async (number, name) => (await ok(
    `mutation($i: CreateCustomerAccountInput!) { createCustomerAccount(input: $i) { id } }`,
    { i: { number, name, organisationDomains: ['kunde.example'] } }, admin)).createCustomerAccount.id;
  const a1 = await acct('SPA-1001', 'Kunde Eins GmbH');
  const a2 = await acct('SPA-1002', 'Kunde Zwei GmbH');

  // Clara: customer admin of the first account; her login is activated
  // with the link mailed to her.
  const { createContact } = await ok(
    `mutation($i: CreateContactInput!) { createContact(input: $i) { id } }`,
    { i: { customerAccountID: a1, name: CLARA.name, email: CLARA.email, roles: ['CUSTOMER_ADMIN'] } }, admin);
  await ok(`mutation($c: ID!) { enableLogin(contactID: $c) { id } }`, { c: createContact.id }, admin);
  const token = await mailedToken(CLARA.email);
  await ok(`mutation($i: ActivateLoginInput!) { activateLogin(input: $i) { accessToken } }`,
    { i: { token, username: CLARA.username, password: CLARA.password, name: CLARA.name, locale: 'en' } });

  // On the second account she may only use the portal (staff-created
  // contacts link to the user with the verified address).
  await ok(`mutation($i: CreateContactInput!) { createContact(input: $i) { id } }`,
    { i: { customerAccountID: a2, name: CLARA.name, email: CLARA.email, roles: ['PORTAL_ACCESS'] } }, admin);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// "Op ok", or "Op CODE" with the first error's code.
const outcome = (x) => `${x.op} ${x.status === 200 && !x.body?.errors ? 'ok' : (x.body?.errors?.[0]?.extensions?.code || x.status)}`;

async function until(cond, ms = 10_000) {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (cond()) return;
  throw new Error(`timed out: ${cond}`);
}

test('the example SPA works from another origin', { timeout: 120_000 }, async (t) => {
  await seed();
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    // CI runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  t.after(() => browser.close());

  // Every GraphQL exchange of the page: operation, status, headers, answer.
  const exchanges = [];
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('response', async (res) => {
    const req = res.request();
    if (!req.url().startsWith(API) || req.method() !== 'POST') return;
    const sent = JSON.parse(req.postData() || '{}');
    let body = null;
    try { body = await res.json(); } catch (_) { /* not JSON */ }
    exchanges.push({ op: sent.operationName, status: res.status(), headers: await req.allHeaders(), variables: sent.variables, body });
  });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // A fake clock that runs with real time until the test pauses it.
  await page.clock.install();
  await page.goto(`${SPA}/?api=${encodeURIComponent(API)}`);
  await page.waitForSelector('body[data-ready="true"]');

  // Freeze the page's timers from here until the proactive refresh is
  // tested, so that the test decides which refresh happens when (on a slow
  // machine the timer could otherwise win the race against the test).
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 50);

  await t.test('logs in and lists the accounts with the effective permissions', async () => {
    await page.fill('#login', CLARA.username);
    await page.fill('#password', CLARA.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app-view:not([hidden])');
    await page.waitForFunction(() => document.querySelectorAll('#accounts li.account').length === 2);
    const perms = async (n) => page.textContent(`#accounts li[data-number="${n}"] .permissions`);
    const p1 = (await perms('SPA-1001')).split(' ');
    for (const p of ['CONTACTS_READ', 'CONTACTS_MANAGE', 'INVITATIONS_MANAGE']) assert.ok(p1.includes(p), `SPA-1001 permissions ${p1}`);
    const p2 = (await perms('SPA-1002')).split(' ');
    assert.ok(!p2.includes('CONTACTS_MANAGE'), `SPA-1002 permissions ${p2}`);
    assert.match(await page.textContent('#user-name'), /Clara Admin <clara@kunde\.example>/);
    assert.equal(await page.textContent('#session-state'), 'logged in');
  });

  await t.test('keeps the tokens in memory only', async () => {
    const stored = await page.evaluate(() => ({
      local: localStorage.length, session: sessionStorage.length, cookie: document.cookie,
    }));
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' });
    const login = exchanges.find((x) => x.op === 'Login');
    assert.equal(login.status, 200);
    assert.ok(login.body.data.login.refreshToken);
  });

  await t.test('refreshes after UNAUTHENTICATED and retries once', async () => {
    // The page's timers are frozen, as for a laptop that slept or a
    // throttled background tab: the proactive refresh does not run, and
    // the access token expires on the server's clock.
    const before = exchanges.length;
    const login = exchanges.find((x) => x.op === 'Login').body.data.login;
    await sleep(Math.max(0, Date.parse(login.expiresAt) + LEEWAY + 1000 - Date.now()));
    assert.equal(await page.textContent('#refresh-count'), '0');
    await page.click('#reload');
    await page.waitForFunction(() => document.querySelector('#refresh-count').textContent === '1');
    await page.waitForFunction(() => document.querySelector('#log').textContent.includes('retry after refresh succeeded'));
    // An expired token is refused when the field runs: status 200 with
    // UNAUTHENTICATED (a token refused before execution would be 401; the
    // SPA treats both alike).
    await until(() => exchanges.length >= before + 3);
    const seq = exchanges.slice(before).map(outcome);
    assert.deepEqual(seq.slice(0, 3), ['Me UNAUTHENTICATED', 'RefreshSession ok', 'Me ok'], seq.join(', '));
    const refreshed = exchanges.slice(before).find((x) => x.op === 'RefreshSession');
    assert.equal(refreshed.variables.refreshToken, login.refreshToken, 'the refresh sends the current refresh token');
    assert.notEqual(refreshed.body.data.refreshSession.refreshToken, login.refreshToken, 'refresh tokens rotate');
    const retried = exchanges.slice(before).filter((x) => x.op === 'Me')[1];
    assert.equal(retried.headers.authorization, `Bearer ${refreshed.body.data.refreshSession.accessToken}`);
    assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  });

  await t.test('refreshes before the access token expires', async () => {
    const before = exchanges.length;
    await page.clock.resume();
    // Scheduled at four fifths of the lifetime.
    await page.waitForFunction(() => document.querySelector('#refresh-count').textContent === '2', null, { timeout: TTL + 5000 });
    await until(() => exchanges.length > before); // the page may be ahead of this process
    const seq = exchanges.slice(before).map(outcome);
    assert.deepEqual(seq, ['RefreshSession ok'], seq.join(', '));
    // And the new token works.
    const n = exchanges.length;
    await page.click('#reload');
    await until(() => exchanges.slice(n).some((x) => x.op === 'Me'));
    const me = exchanges.slice(n).find((x) => x.op === 'Me');
    assert.equal(outcome(me), 'Me ok');
    assert.equal(me.headers.authorization, `Bearer ${exchanges[before].body.data.refreshSession.accessToken}`);
  });

  await t.test('creates a contact and lists it', async () => {
    await page.click('#accounts li[data-number="SPA-1001"] button');
    await page.waitForSelector('#contact-form:not([hidden])');
    await page.fill('#contact-name', 'Dora Neu');
    await page.fill('#contact-email', 'dora@kunde.example');
    await page.click('#contact-form button[type=submit]');
    await page.waitForFunction(() => document.querySelector('#contacts').textContent.includes('Dora Neu <dora@kunde.example>'));
    await until(() => exchanges.some((x) => x.op === 'CreateContact'));
    const create = exchanges.filter((x) => x.op === 'CreateContact');
    assert.equal(create.length, 1);
    assert.equal(create[0].status, 200);
    assert.match(create[0].headers['idempotency-key'] || '', /^spa-[0-9a-f]{32}$/, 'sent with an Idempotency-Key (allowed by CORS)');
    assert.equal(await page.textContent('#error'), '');
    // On the account where she lacks CONTACTS_MANAGE, the form is hidden.
    await page.click('#accounts li[data-number="SPA-1002"] button');
    await page.waitForFunction(() => document.querySelector('#contacts-title').textContent.includes('SPA-1002'));
    assert.equal(await page.isHidden('#contact-form'), true);
  });

  await t.test('ends the session when an old refresh token is reused', async () => {
    // Someone replays the refresh token of the login, rotated away twice
    // since: Portier ends the session. The SPA's next refresh is refused
    // and it returns to the login form.
    const first = exchanges.find((x) => x.op === 'Login').body.data.login.refreshToken;
    const replay = await gql(`mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: first });
    assert.equal(replay.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
    await page.click('#reload');
    await page.waitForSelector('#login-view:not([hidden])');
    assert.match(await page.textContent('#login-error'), /session has ended/);
    assert.equal(await page.textContent('#session-state'), 'logged out');
  });

  await t.test('a page from an origin Portier does not allow is refused by CORS', async () => {
    const other = await context.newPage();
    const failed = [];
    const answered = [];
    other.on('requestfailed', (r) => { if (r.url().startsWith(API)) failed.push(r.method()); });
    other.on('response', (r) => { if (r.url().startsWith(API) && r.request().method() === 'POST') answered.push(r.status()); });
    await other.goto(`${OTHER}/?api=${encodeURIComponent(API)}`);
    await other.waitForSelector('body[data-ready="true"]');
    await other.fill('#login', CLARA.username);
    await other.fill('#password', CLARA.password);
    await other.click('#login-form button[type=submit]');
    await other.waitForFunction(() => document.querySelector('#login-error').textContent !== '');
    assert.match(await other.textContent('#login-error'), /not allowed by CORS/);
    assert.equal(await other.isHidden('#app-view'), true);
    // The preflight was refused, so the login itself was never sent.
    assert.deepEqual(answered, []);
    assert.ok(failed.length >= 1, 'the browser reports the blocked request');
    await other.close();
  });

  await t.test('logs out', async () => {
    await page.fill('#login', CLARA.username);
    await page.fill('#password', CLARA.password);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#app-view:not([hidden])');
    const refreshToken = exchanges.filter((x) => x.op === 'Login').at(-1).body.data.login.refreshToken;
    await page.click('#logout');
    await page.waitForSelector('#login-view:not([hidden])');
    await until(() => exchanges.some((x) => x.op === 'Logout'));
    assert.equal(outcome(exchanges.filter((x) => x.op === 'Logout').at(-1)), 'Logout ok');
    const after = await gql(`mutation($t: String!) { refreshSession(refreshToken: $t) { accessToken } }`, { t: refreshToken });
    assert.equal(after.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED', 'the refresh token ends with the session');
    assert.equal(pageErrors.length, 0, pageErrors.join('\n'));
  });
});
