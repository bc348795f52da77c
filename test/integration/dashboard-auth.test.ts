// The dashboard's doors: sign-in by key or by user, sessions, CSRF, session fixation, roles and
// the audit page's scope.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DashboardClient, signedIn } from '../support/dashboard.ts';
import { createMerchantKey, type Merchant } from '../support/merchants.ts';
import { startTestServer, testAdminKey, type TestServer } from '../support/server.ts';

let server: TestServer;
let shop: Merchant;
let other: Merchant;

before(async () => {
  server = await startTestServer();
  shop = await createMerchantKey(server, 'Shop');
  other = await createMerchantKey(server, 'Other');
});
after(async () => server.stop());

describe('signing in', () => {
  test('a page without a session goes to the sign-in form, and back after it', async () => {
    const browser = new DashboardClient(server.url);
    const page = await browser.get('/dashboard/audit?action=payment.refund');
    assert.equal(page.status, 303);
    assert.equal(
      page.location,
      `/dashboard/sign-in?next=${encodeURIComponent('/dashboard/audit?action=payment.refund')}`,
    );
    const form = await browser.get(page.location ?? '');
    assert.match(form.body, /<label for="password">Password<\/label>/);
    assert.equal(form.headers.get('x-frame-options'), 'DENY');
    assert.match(form.headers.get('content-security-policy') ?? '', /script-src 'self';/);
    const answer = await browser.post('/dashboard/sign-in', {
      key: shop.key,
      next: '/dashboard/audit?action=payment.refund',
    });
    assert.equal(answer.status, 303);
    assert.equal(answer.location, '/dashboard/audit?action=payment.refund');
    const cookie = answer.headers
      .getSetCookie()
      .find((line) => line.startsWith('payrail_session='));
    assert.match(cookie ?? '', /HttpOnly/i);
    assert.match(cookie ?? '', /SameSite=Strict/i);
    assert.match(cookie ?? '', /Path=\/dashboard/);
    const home = await browser.get('/dashboard');
    assert.equal(home.status, 200);
    assert.match(home.body, new RegExp(shop.id));
  });

  test('a redirect after sign-in never leaves the dashboard', async () => {
    const browser = new DashboardClient(server.url);
    await browser.get('/dashboard/sign-in');
    for (const next of [
      'https://evil.example/',
      '//evil.example/x',
      '/v1/balance',
      '/dashboard\\@x',
    ]) {
      const answer = await browser.post('/dashboard/sign-in', { key: shop.key, next });
      assert.equal(answer.location, '/dashboard', next);
      await browser.get('/dashboard/sign-in');
    }
  });

  test('wrong credentials are refused without saying which part was wrong', async () => {
    const browser = new DashboardClient(server.url);
    await browser.get('/dashboard/sign-in');
    const attempts: Record<string, string>[] = [
      { key: 'sk_test_nothing' },
      { key: 'not-the-admin-key' },
      { email: 'nobody@example.com', password: 'a long enough password' },
    ];
    for (const credentials of attempts) {
      const answer = await browser.post('/dashboard/sign-in', credentials);
      assert.equal(answer.status, 401);
      assert.match(answer.body, /Those sign-in details are not valid/);
      assert.equal(browser.cookies.has('payrail_session'), false);
    }
  });

  test('a dashboard user signs in with email and password; the hash is scrypt', async () => {
    const user = await server.context.dashboard.users.create({
      email: 'Finance@Shop.example',
      password: 'correct horse battery',
      role: 'finance',
      merchantId: shop.id,
    });
    assert.equal(user.email, 'finance@shop.example');
    const stored = await server.context.database.query<{ password_hash: string }>(
      'SELECT password_hash FROM dashboard_users WHERE id = $1',
      [user.id],
    );
    assert.match(stored.rows[0]?.password_hash ?? '', /^scrypt\$15\$8\$1\$/);
    assert.ok(!stored.rows[0]?.password_hash.includes('correct horse'));
    const browser = await signedIn(server.url, {
      email: 'finance@shop.example',
      password: 'correct horse battery',
    });
    const home = await browser.get('/dashboard');
    assert.match(home.body, /user finance@shop\.example/);
    assert.match(home.body, /\(finance\)/);
    const wrong = new DashboardClient(server.url);
    await wrong.get('/dashboard/sign-in');
    const refused = await wrong.post('/dashboard/sign-in', {
      email: 'finance@shop.example',
      password: 'correct horse battery!',
    });
    assert.equal(refused.status, 401);
  });

  test('sign-out ends the session: its cookie no longer opens a page', async () => {
    const browser = await signedIn(server.url, { key: shop.key });
    const token = browser.cookies.get('payrail_session');
    assert.ok(token);
    const out = await browser.post('/dashboard/sign-out');
    assert.equal(out.status, 303);
    const replay = new DashboardClient(server.url);
    replay.cookies.set('payrail_session', token);
    assert.equal((await replay.get('/dashboard')).status, 303);
  });
});

describe('attacks refused', () => {
  test('session fixation: a cookie planted before sign-in is replaced and never signed in', async () => {
    const attacker = await signedIn(server.url, { key: other.key });
    const planted = attacker.cookies.get('payrail_session') ?? '';
    const victim = new DashboardClient(server.url);
    victim.cookies.set('payrail_session', planted);
    await victim.signIn({ key: shop.key });
    const token = victim.cookies.get('payrail_session');
    assert.ok(token !== undefined && token !== planted);
    // The planted token was ended by the victim's sign-in: the attacker holds nothing.
    assert.equal((await attacker.get('/dashboard')).status, 303);
    const home = await victim.get('/dashboard');
    assert.match(home.body, new RegExp(shop.id));
    assert.doesNotMatch(home.body, new RegExp(other.id));
    // A made-up token is no session either.
    const forged = new DashboardClient(server.url);
    forged.cookies.set('payrail_session', `dss_${'A'.repeat(43)}`);
    assert.equal((await forged.get('/dashboard')).status, 303);
  });

  test('CSRF: a POST without the token, with a wrong one, or from another origin is refused', async () => {
    const browser = await signedIn(server.url, { key: shop.key });
    const noToken = await browser.request('POST', '/dashboard/sign-out', { reason: 'x' });
    assert.equal(noToken.status, 403);
    assert.match(noToken.body, /CSRF/);
    const wrong = await browser.request('POST', '/dashboard/sign-out', { _csrf: 'csrf_wrong' });
    assert.equal(wrong.status, 403);
    const crossSite = await browser.request(
      'POST',
      '/dashboard/sign-out',
      { _csrf: browser.csrf ?? '' },
      { origin: 'https://evil.example' },
    );
    assert.equal(crossSite.status, 403);
    // Still signed in: none of them did anything.
    assert.equal((await browser.get('/dashboard')).status, 200);
    // The sign-in form has its own token: a forged sign-in (login CSRF) is refused.
    const forged = new DashboardClient(server.url);
    const answer = await forged.request('POST', '/dashboard/sign-in', {
      key: shop.key,
      _csrf: 'x',
    });
    assert.equal(answer.status, 403);
    assert.equal(forged.cookies.has('payrail_session'), false);
  });

  test('a session signed in with a key ends when the key is revoked', async () => {
    const made = await server.context.apiKeys.createKey(shop.id, { kind: 'secret' });
    const browser = await signedIn(server.url, { key: made.secret });
    assert.equal((await browser.get('/dashboard')).status, 200);
    await server.context.apiKeys.revokeKey(shop.id, made.key.id);
    assert.equal((await browser.get('/dashboard')).status, 303);
  });

  test('sessions end after their idle time by the clock', async () => {
    const browser = await signedIn(server.url, { key: shop.key });
    const sessions = server.context.dashboard.sessions;
    const token = browser.cookies.get('payrail_session') ?? '';
    assert.ok(await sessions.find(token));
    await server.context.database.query(
      `UPDATE dashboard_sessions SET idle_expires_at = now() - interval '1 second'`,
    );
    assert.equal(await sessions.find(token), undefined);
    assert.equal((await browser.get('/dashboard')).status, 303);
  });
});

describe('the audit page', () => {
  test('a merchant sees its own entries only; the operator sees all, with the merchant', async () => {
    const audit = server.context.dashboard.audit;
    const actor = (merchantId: string) => ({
      merchantId,
      role: 'admin' as const,
      actor: 'test',
      userId: null,
    });
    await audit.record(actor(shop.id), {
      merchantId: shop.id,
      action: 'payment.refund',
      objectId: 'pi_shop1',
      reason: 'customer asked <b>twice</b>',
      before: { amount_refunded: 0 },
      after: { amount_refunded: 500n },
    });
    await audit.record(actor(other.id), {
      merchantId: other.id,
      action: 'payment.refund',
      objectId: 'pi_other1',
      reason: 'other merchant reason',
    });
    const merchant = await signedIn(server.url, { key: shop.key });
    const page = await merchant.get('/dashboard/audit');
    assert.equal(page.status, 200, `${page.status} ${page.location} ${page.body.slice(0, 500)}`);
    assert.match(page.body, /pi_shop1/);
    assert.match(page.body, /customer asked &lt;b&gt;twice&lt;\/b&gt;/);
    assert.match(page.body, /&quot;amount_refunded&quot;: &quot;500&quot;/);
    assert.doesNotMatch(page.body, /pi_other1|other merchant reason/);
    const filtered = await merchant.get('/dashboard/audit?object=pi_other1');
    assert.doesNotMatch(filtered.body, /pi_other1<\/code><\/td>/);
    const operator = await signedIn(server.url, { key: testAdminKey });
    const all = await operator.get('/dashboard/audit');
    assert.match(all.body, /pi_shop1/);
    assert.match(all.body, /pi_other1/);
    const bad = await operator.get('/dashboard/audit?object=%3Cscript%3E');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /object: letters, digits/);
  });
});

describe('the team page', () => {
  test('an admin adds a user with a role and disables them (audited); others may not', async () => {
    await server.context.dashboard.users.create({
      email: 'owner@shop.example',
      password: 'the owner password',
      role: 'admin',
      merchantId: shop.id,
    });
    // A secret key signs in as the merchant's admin, but may not manage users: a developer who
    // can create keys must not make themselves an admin user with one.
    const byKey = await signedIn(server.url, { key: shop.key });
    assert.doesNotMatch((await byKey.get('/dashboard/users')).body, /Add a user/);
    const escalation = await byKey.post('/dashboard/users', {
      email: 'me@shop.example',
      role: 'admin',
      password: 'a password of mine',
      reason: 'promote myself',
    });
    assert.equal(escalation.status, 403);
    const admin = await signedIn(server.url, {
      email: 'owner@shop.example',
      password: 'the owner password',
    });
    const page = await admin.get('/dashboard/users');
    assert.match(page.body, /Add a user/);
    const short = await admin.post('/dashboard/users', {
      email: 'dev@shop.example',
      role: 'developer',
      password: 'short',
      reason: 'new hire',
    });
    assert.equal(short.status, 400);
    assert.match(short.body, /password:/);
    const added = await admin.post('/dashboard/users', {
      email: 'dev@shop.example',
      role: 'developer',
      password: 'a developer password',
      reason: 'new hire',
    });
    assert.equal(added.status, 303);
    const again = await admin.post('/dashboard/users', {
      email: 'dev@shop.example',
      role: 'developer',
      password: 'a developer password',
      reason: 'new hire',
    });
    assert.equal(again.status, 409);
    const developer = await signedIn(server.url, {
      email: 'dev@shop.example',
      password: 'a developer password',
    });
    const devView = await developer.get('/dashboard/users');
    assert.doesNotMatch(devView.body, /Add a user/);
    const refused = await developer.post('/dashboard/users', {
      email: 'x@shop.example',
      role: 'admin',
      password: 'a password for x',
      reason: 'promote myself',
    });
    assert.equal(refused.status, 403);
    const users = await server.context.dashboard.users.list(shop.id);
    const dev = users.find((user) => user.email === 'dev@shop.example');
    assert.ok(dev);
    // Another merchant's admin cannot touch this user.
    await server.context.dashboard.users.create({
      email: 'owner@other.example',
      password: 'the other owner password',
      role: 'admin',
      merchantId: other.id,
    });
    const stranger = await signedIn(server.url, {
      email: 'owner@other.example',
      password: 'the other owner password',
    });
    assert.doesNotMatch((await stranger.get('/dashboard/users')).body, /dev@shop\.example/);
    const foreign = await stranger.post(`/dashboard/users/${dev.id}/disable`, {
      reason: 'not mine',
    });
    assert.equal(foreign.status, 404);
    const disabled = await admin.post(`/dashboard/users/${dev.id}/disable`, {
      reason: 'left the team',
    });
    assert.equal(disabled.status, 303);
    // Disabling ends the user's sessions at once.
    assert.equal((await developer.get('/dashboard')).status, 303);
    const audit = await admin.get('/dashboard/audit');
    assert.match(audit.body, /dashboard_user\.create/);
    assert.match(audit.body, /dashboard_user\.disable/);
    assert.match(audit.body, /left the team/);
  });
});

describe('guessing passwords', () => {
  test('ten failed sign-ins per address, counted before each check, even in parallel', async () => {
    const own = await startTestServer();
    try {
      const merchant = await createMerchantKey(own, 'Guessed');
      const browser = new DashboardClient(own.url);
      await browser.get('/dashboard/sign-in');
      const token = browser.csrf ?? '';
      const guesses = await Promise.all(
        Array.from({ length: 14 }, (_, index) =>
          browser.request('POST', '/dashboard/sign-in', {
            _csrf: token,
            email: 'owner@guessed.example',
            password: `guess number ${index}`,
          }),
        ),
      );
      const statuses = guesses.map((answer) => answer.status);
      assert.equal(statuses.filter((status) => status === 401).length, 10, String(statuses));
      assert.equal(statuses.filter((status) => status === 429).length, 4, String(statuses));
      // Even the right key waits now.
      const right = await browser.request('POST', '/dashboard/sign-in', {
        _csrf: token,
        key: merchant.key,
      });
      assert.equal(right.status, 429);
      assert.match(right.body, /Too many failed sign-ins/);
    } finally {
      await own.stop();
    }
  });
});
