// Portier example SPA: plain JavaScript, no build step, no framework.
//
// What it shows (see README.md beside this file):
//   - login with the `login` mutation; the access token lives in a variable
//     of this module only (never in localStorage or a cookie);
//   - the refresh token, too, is kept in memory only: a reload of the page
//     ends the session here (the trade-off is explained in README.md);
//   - the access token is refreshed shortly before it expires, and a
//     request refused with UNAUTHENTICATED is retried once after a refresh;
//   - refresh tokens rotate: every refreshSession answer holds a new one and
//     the old one stops working, so refreshes are never run concurrently;
//   - `me` lists the accounts the user acts for and the effective
//     permissions on each; a contact is created with an Idempotency-Key.
//
// The API address is the `api` query parameter of the page when it names a
// loopback host (?api=http://127.0.0.1:8080/graphql), else
// http://localhost:8080/graphql.
'use strict';

// Only a loopback API is taken from the address bar: a link with
// ?api=https://elsewhere/ must not make the page send a password there. A
// real deployment fixes the address here instead.
const API = (() => {
  const fallback = 'http://localhost:8080/graphql';
  const asked = new URLSearchParams(location.search).get('api');
  if (!asked) return fallback;
  try {
    const u = new URL(asked);
    if ((u.protocol === 'http:' || u.protocol === 'https:') &&
        ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname)) return u.href;
  } catch (_) { /* not a URL */ }
  console.warn('ignoring ?api= (only a loopback API is accepted):', asked);
  return fallback;
})();

// ---------------------------------------------------------------- documents

// operations.graphql holds one named operation after another (no
// fragments); each is sent on its own.
const ops = {};

async function loadOperations() {
  const res = await fetch('operations.graphql', { cache: 'no-store' });
  if (!res.ok) throw new Error(`operations.graphql: HTTP ${res.status}`);
  const text = (await res.text()).replace(/^\s*#.*$/gm, '');
  const starts = [...text.matchAll(/^(query|mutation)\s+(\w+)/gm)];
  starts.forEach((m, i) => {
    const end = i + 1 < starts.length ? starts[i + 1].index : text.length;
    ops[m[2]] = text.slice(m.index, end).trim();
  });
}

// ---------------------------------------------------------------- session

const session = {
  accessToken: null, // in memory only
  refreshToken: null, // in memory only
  expiresAt: null, // Date, as the server said
  timer: null, // the proactive refresh
  inFlight: null, // the running refresh, shared by every caller
  refreshes: 0,
};

class ApiError extends Error {
  constructor(err) {
    super(err.message || String(err));
    this.code = err.extensions?.code || 'INTERNAL';
    this.reason = err.extensions?.reason;
    this.field = err.extensions?.field;
  }
}

// The token's own lifetime (exp - iat of the JWT), so that the refresh is
// scheduled right even when this computer's clock is off. The payload is
// read, not verified: only the server verifies tokens.
function tokenLifetimeMs(jwt) {
  try {
    const b64 = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(b64));
    const s = claims.exp - claims.iat;
    if (s > 0) return s * 1000;
  } catch (_) { /* fall through */ }
  return 60 * 1000;
}

function setTokens(t) {
  session.accessToken = t.accessToken;
  session.refreshToken = t.refreshToken;
  session.expiresAt = new Date(t.expiresAt);
  clearTimeout(session.timer);
  // Refresh when a fifth of the lifetime is left, at most a minute early.
  const life = tokenLifetimeMs(t.accessToken);
  const wait = life - Math.min(60 * 1000, life / 5);
  session.timer = setTimeout(() => {
    refresh('before expiry').catch((e) => log(`refresh before expiry failed: ${e.code || ''} ${e.message}`));
  }, wait);
  renderSession();
}

function endSession(why) {
  clearTimeout(session.timer);
  Object.assign(session, { accessToken: null, refreshToken: null, expiresAt: null, timer: null });
  renderSession();
  show('login-view');
  if (why) $('login-error').textContent = why;
}

// refresh exchanges the refresh token for new tokens. One at a time: a
// second refresh with the same token would count as reuse of a rotated
// token and end the session.
function refresh(reason) {
  if (!session.inFlight) {
    session.inFlight = (async () => {
      if (!session.refreshToken) throw new ApiError({ message: 'not logged in', extensions: { code: 'UNAUTHENTICATED' } });
      const { body } = await post('RefreshSession', { refreshToken: session.refreshToken }, {});
      const err = body.errors?.[0];
      if (err) {
        const e = new ApiError(err);
        // UNAUTHENTICATED or BAD_USER_INPUT: the session is over (expired,
        // revoked, or a rotated token was reused). UNAVAILABLE or
        // RATE_LIMITED: keep the session and try again later.
        if (e.code === 'UNAUTHENTICATED' || e.code === 'BAD_USER_INPUT') endSession('Your session has ended. Please log in again.');
        throw e;
      }
      setTokens(body.data.refreshSession);
      session.refreshes++;
      renderSession();
      log(`access token refreshed (${reason}); valid until ${session.expiresAt.toISOString()}`);
    })().finally(() => { session.inFlight = null; });
  }
  return session.inFlight;
}

// ---------------------------------------------------------------- transport

async function post(name, variables, headers) {
  let res;
  try {
    res = await fetch(API, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit', // bearer tokens only: Portier uses no cookies
      headers: { 'Content-Type': 'application/json', Accept: 'application/graphql-response+json, application/json', ...headers },
      body: JSON.stringify({ query: ops[name], operationName: name, variables }),
    });
  } catch (e) {
    // The browser tells a script nothing more: the API is down, or it
    // refused this page's origin (CORS).
    throw new ApiError({ message: `cannot reach the API at ${API} (network error, or this origin is not allowed by CORS)`, extensions: { code: 'NETWORK' } });
  }
  let body;
  try {
    body = await res.json();
  } catch (_) {
    throw new ApiError({ message: `HTTP ${res.status} without a GraphQL answer`, extensions: { code: 'INTERNAL' } });
  }
  return { status: res.status, body };
}

// call runs one operation with the access token. A refusal with
// UNAUTHENTICATED (the token expired while the tab slept, say) is answered
// with one refresh and one retry.
async function call(name, variables = {}, extraHeaders = {}) {
  if (session.inFlight) await session.inFlight.catch(() => {});
  for (let attempt = 0; ; attempt++) {
    const headers = { ...extraHeaders };
    if (session.accessToken) headers.Authorization = `Bearer ${session.accessToken}`;
    const { status, body } = await post(name, variables, headers);
    const err = body.errors?.[0];
    const unauthenticated = status === 401 || err?.extensions?.code === 'UNAUTHENTICATED';
    if (unauthenticated && attempt === 0 && session.refreshToken) {
      log(`${name}: access token refused (UNAUTHENTICATED); refreshing and retrying once`);
      await refresh('after UNAUTHENTICATED');
      continue;
    }
    if (unauthenticated) endSession('Your session has ended. Please log in again.');
    if (err) throw new ApiError(err);
    if (attempt > 0) log(`${name}: retry after refresh succeeded`);
    return body.data;
  }
}

// A random Idempotency-Key (8 to 128 characters of A-Za-z0-9._:-).
function newIdempotencyKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return 'spa-' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- views

const $ = (id) => document.getElementById(id);

function show(view) {
  for (const v of ['login-view', 'app-view']) $(v).hidden = v !== view;
}

function log(msg) {
  const li = document.createElement('li');
  li.textContent = `${new Date().toLocaleTimeString()} ${msg}`;
  $('log').prepend(li);
}

function renderSession() {
  $('session-state').textContent = session.accessToken ? 'logged in' : 'logged out';
  $('token-expiry').textContent = session.expiresAt ? session.expiresAt.toISOString() : '–';
  $('refresh-count').textContent = String(session.refreshes);
}

function showError(e) {
  $('error').textContent = e ? `${e.code}${e.reason ? ' (' + e.reason + ')' : ''}: ${e.message}` : '';
}

let current = null; // the selected membership

async function loadMe() {
  const { me } = await call('Me');
  $('user-name').textContent = me.user ? `${me.user.name} <${me.user.email || 'no e-mail'}>` : me.kind;
  const list = $('accounts');
  list.replaceChildren();
  for (const m of me.memberships) {
    const li = document.createElement('li');
    li.className = 'account';
    li.dataset.number = m.customerAccount.number;
    const title = document.createElement('button');
    title.type = 'button';
    title.textContent = `${m.customerAccount.number} ${m.customerAccount.name}`;
    title.addEventListener('click', () => selectAccount(m).catch(showError));
    const perms = document.createElement('p');
    perms.className = 'permissions';
    perms.textContent = m.permissions.length ? m.permissions.join(' ') : (m.secondFactorRequired ? 'none until a second factor is enabled' : 'none');
    li.append(title, perms);
    list.append(li);
  }
  if (me.memberships.length === 0) list.textContent = 'You act for no customer account.';
  const again = current && me.memberships.find((m) => m.customerAccount.id === current.customerAccount.id);
  if (again) await selectAccount(again);
  else if (me.memberships.length === 1) await selectAccount(me.memberships[0]);
}

async function selectAccount(m) {
  current = m;
  $('contacts-view').hidden = false;
  $('contacts-title').textContent = `Contacts of ${m.customerAccount.number} ${m.customerAccount.name}`;
  $('contact-form').hidden = !m.permissions.includes('CONTACTS_MANAGE');
  const { customerAccount } = await call('AccountContacts', { number: m.customerAccount.number });
  const list = $('contacts');
  list.replaceChildren();
  for (const { node } of customerAccount?.contacts.edges || []) {
    const li = document.createElement('li');
    li.textContent = node.email ? `${node.name} <${node.email}>` : node.name;
    list.append(li);
  }
}

// ---------------------------------------------------------------- actions

async function onLogin(ev) {
  ev.preventDefault();
  $('login-error').textContent = '';
  try {
    const { body } = await post('Login', { input: { login: $('login').value, password: $('password').value } }, {});
    const err = body.errors?.[0];
    if (err) throw new ApiError(err);
    const p = body.data.login;
    if (p.challenge) {
      $('login-error').textContent = `This login needs a second factor (${p.challenge.methods.join(', ')}), which this example does not implement.`;
      return;
    }
    $('password').value = '';
    setTokens(p);
    log('logged in');
    show('app-view');
    await loadMe();
  } catch (e) {
    $('login-error').textContent = `${e.code}: ${e.message}`;
  }
}

async function onCreateContact(ev) {
  ev.preventDefault();
  showError(null);
  const input = { customerAccountID: current.customerAccount.id, name: $('contact-name').value };
  if ($('contact-email').value) input.email = $('contact-email').value;
  try {
    // The same key on a retry (after a refresh, or by the user) makes
    // sure the contact is created once.
    const { createContact } = await call('CreateContact', { input }, { 'Idempotency-Key': newIdempotencyKey() });
    log(`contact ${createContact.name} created`);
    $('contact-form').reset();
    await selectAccount(current);
  } catch (e) {
    showError(e);
  }
}

async function onLogout() {
  try {
    await call('Logout');
  } catch (_) { /* the session ends here in any case */ }
  log('logged out');
  endSession('');
}

async function main() {
  $('api').textContent = API;
  renderSession();
  $('login-form').addEventListener('submit', onLogin);
  $('contact-form').addEventListener('submit', onCreateContact);
  $('logout').addEventListener('click', onLogout);
  $('reload').addEventListener('click', () => { showError(null); loadMe().catch(showError); });
  await loadOperations();
  show('login-view');
  document.body.dataset.ready = 'true';
}

main().catch((e) => { document.body.textContent = `The example could not start: ${e.message}`; });
