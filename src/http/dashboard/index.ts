// The dashboard at /dashboard (issue 15): server-rendered pages behind a session cookie.
//
// - Sign-in with a dashboard user's email and password, a merchant's secret key (acting as that
//   merchant's admin) or the admin key (the operator's admin). Every sign-in makes a new session
//   token and ends the one the browser had (no session fixation).
// - The cookie is HttpOnly, SameSite=Strict, Path=/dashboard, Secure over HTTPS.
// - Every POST carries the session's CSRF token (`_csrf` field or `x-csrf-token` header) and, when
//   the browser sends one, an Origin of this host; the sign-in form its own double-submit token.
// - A merchant's session sees only that merchant's objects: every page asks its service with the
//   session's merchant id, and an object of another merchant is a 404 like one that does not exist.
import crypto from 'node:crypto';
import cookie from '@fastify/cookie';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { DashboardSession } from '../../dashboard/sessions.ts';
import { sameToken, type SessionKey } from '../../dashboard/sessions.ts';
import type { Principal } from '../../dashboard/principal.ts';
import { secretHint } from '../../merchants/keys.ts';
import type { Assets } from '../../web/assets.ts';
import { html } from '../../web/html.ts';
import type { RouteContext } from '../context.ts';
import { apiCode, toErrorResponse } from '../errors.ts';
import { DashboardError } from './errors.ts';
import { DomainError, type ErrorCategory } from '../../errors.ts';

const domainStatus: Record<ErrorCategory, number> = {
  invalid: 400,
  not_found: 404,
  conflict: 409,
  declined: 402,
  unavailable: 503,
};
import { dashboardPrefix, sendPage, type DashboardView } from './layout.ts';
import { registerHomePage } from './pages/home.ts';
import { registerAuditPage } from './pages/audit.ts';
import { registerPaymentPages } from './pages/payments.ts';
import { registerUserPages } from './pages/users.ts';
import { registerConnectorPages } from './pages/connectors.ts';
import { registerApiKeyPages } from './pages/api-keys.ts';
import { registerDevelopersPages } from './pages/developers.ts';
import { registerBalancesPage } from './pages/balances.ts';
import { registerPayoutsPage } from './pages/payouts.ts';
import { registerSettlementPage } from './pages/settlement.ts';
import { registerReconciliationPage } from './pages/reconciliation.ts';

declare module 'fastify' {
  interface FastifyRequest {
    dashboard?: DashboardSession & { token: string };
  }
}

export const sessionCookie = 'payrail_session';
const signInCookie = 'payrail_sign_in';

function isHttps(request: FastifyRequest, publicUrl: string | undefined): boolean {
  return request.protocol === 'https' || (publicUrl?.startsWith('https:') ?? false);
}

function cookieOptions(request: FastifyRequest, publicUrl: string | undefined) {
  return {
    path: dashboardPrefix,
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: isHttps(request, publicUrl),
  };
}

/** Where to go after sign-in: a dashboard path of this site only, never another origin. */
function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 500) return dashboardPrefix;
  if (!next.startsWith(`${dashboardPrefix}`) || next.startsWith('//') || next.includes('\\'))
    return dashboardPrefix;
  return next;
}

/** A POST from another site (a form or a fetch) names another Origin: refused. */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers['sec-fetch-site'] !== 'cross-site';
  try {
    return new URL(origin).host === request.host;
  } catch {
    return false;
  }
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function signInPage(
  view: DashboardView,
  request: FastifyRequest,
  reply: FastifyReply,
  token: string,
  next: string,
  message?: string,
): FastifyReply {
  return sendPage(view, request, reply, {
    title: 'Sign in',
    section: 'home',
    bare: true,
    status: message === undefined ? 200 : 401,
    body: html`<section class="sign-in">
      <h1>Sign in to Payrail</h1>
      ${message !== undefined && html`<p class="error" role="alert">${message}</p>`}
      <form method="post" action="${dashboardPrefix}/sign-in">
        <input type="hidden" name="_csrf" value="${token}" />
        <input type="hidden" name="next" value="${next}" />
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" maxlength="320" />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          maxlength="200"
        />
        <p class="or">or</p>
        <label for="key">API key (a merchant's secret key, or the operator's admin key)</label>
        <input id="key" name="key" type="password" autocomplete="off" maxlength="300" />
        <button type="submit">Sign in</button>
      </form>
    </section>`,
  });
}

type SignIn = { readonly principal: Principal; readonly key?: SessionKey };

async function principalFromForm(
  context: RouteContext,
  body: unknown,
): Promise<SignIn | undefined> {
  const key = field(body, 'key')?.trim();
  if (key !== undefined && key !== '') {
    if (!key.startsWith('sk_') && !key.startsWith('pk_'))
      return (await context.adminKeys.authenticate(key))
        ? {
            principal: { merchantId: null, role: 'admin', actor: 'admin key', userId: null },
            key: { source: 'admin', secret: key },
          }
        : undefined;
    const owner = await context.merchants.authenticate(key);
    if (owner === undefined || owner.kind !== 'secret') return undefined;
    return {
      principal: {
        merchantId: owner.merchantId,
        role: 'admin',
        actor: `key ${secretHint(key)}`,
        userId: null,
      },
      key: { source: 'merchant', secret: key },
    };
  }
  const email = field(body, 'email') ?? '';
  const password = field(body, 'password') ?? '';
  if (email === '' || password === '') return undefined;
  const user = await context.dashboard.users.authenticate(email, password);
  if (user === undefined) return undefined;
  return {
    principal: {
      merchantId: user.merchantId,
      role: user.role,
      actor: `user ${user.email}`,
      userId: user.id,
    },
  };
}

function registerSignIn(app: FastifyInstance, context: RouteContext, view: DashboardView): void {
  // Ten failed sign-ins per address in 15 minutes, then a wait: guessing passwords is slow.
  const failures = new RateLimiterMemory({ points: 10, duration: 15 * 60 });
  const publicUrl = context.config.publicUrl;

  app.get('/sign-in', { schema: { hide: true } }, async (request, reply) => {
    const token = crypto.randomBytes(24).toString('base64url');
    void reply.setCookie(signInCookie, token, {
      ...cookieOptions(request, publicUrl),
      maxAge: 3600,
    });
    return signInPage(
      view,
      request,
      reply,
      token,
      safeNext((request.query as { next?: unknown }).next),
    );
  });

  app.post('/sign-in', { schema: { hide: true } }, async (request, reply) => {
    const expected = request.cookies[signInCookie];
    const given = field(request.body, '_csrf');
    if (
      expected === undefined ||
      given === undefined ||
      !sameToken(expected, given) ||
      !sameOrigin(request)
    )
      throw new DashboardError(
        403,
        'The sign-in form expired or came from another site. Reload it and try again.',
      );
    const next = safeNext(field(request.body, 'next'));
    // A point is taken before the check and given back when it passes: parallel guesses cannot
    // all be checked before the first failure counts.
    try {
      await failures.consume(request.ip);
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      throw new DashboardError(
        429,
        `Too many failed sign-ins; try again in ${Math.ceil(refusal.msBeforeNext / 60000)} minutes.`,
      );
    }
    const signIn = await principalFromForm(context, request.body);
    if (signIn === undefined)
      return signInPage(view, request, reply, given, next, 'Those sign-in details are not valid.');
    await failures.reward(request.ip, 1);
    // The browser's old session, whoever made it, ends here: the new one has a new token.
    const old = request.cookies[sessionCookie];
    if (old !== undefined) await context.dashboard.sessions.destroy(old);
    const { principal } = signIn;
    const { token } = await context.dashboard.sessions.create(principal, signIn.key);
    void reply
      .clearCookie(signInCookie, cookieOptions(request, publicUrl))
      .setCookie(sessionCookie, token, cookieOptions(request, publicUrl));
    request.log.info(
      { actor: principal.actor, merchant: principal.merchantId },
      'dashboard sign-in',
    );
    return reply.code(303).header('location', next).send();
  });

  app.post('/sign-out', { schema: { hide: true } }, async (request, reply) => {
    if (request.dashboard !== undefined)
      await context.dashboard.sessions.destroy(request.dashboard.token);
    void reply.clearCookie(sessionCookie, cookieOptions(request, publicUrl));
    return reply.code(303).header('location', `${dashboardPrefix}/sign-in`).send();
  });
}

function installSessionHooks(app: FastifyInstance, context: RouteContext): void {
  app.addHook('preHandler', async (request, reply) => {
    const path = request.routeOptions.url ?? '';
    const token = request.cookies[sessionCookie];
    const session = token === undefined ? undefined : await context.dashboard.sessions.find(token);
    if (session !== undefined && token !== undefined) request.dashboard = { ...session, token };
    if (path === `${dashboardPrefix}/sign-in`) return;
    if (request.dashboard === undefined) {
      if (request.method === 'GET' && request.headers['hx-request'] !== 'true') {
        const next = encodeURIComponent(request.url);
        return reply.code(303).header('location', `${dashboardPrefix}/sign-in?next=${next}`).send();
      }
      throw new DashboardError(401, 'Your session has ended. Sign in again.');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const given = field(request.body, '_csrf') ?? request.headers['x-csrf-token'];
      if (
        typeof given !== 'string' ||
        !sameToken(given, request.dashboard.csrfToken) ||
        !sameOrigin(request)
      )
        throw new DashboardError(
          403,
          'This form expired or came from another site (CSRF check). ' +
            'Reload the page and try again.',
        );
    }
  });
}

function installErrorPage(app: FastifyInstance, view: DashboardView): void {
  app.setErrorHandler((error, request, reply) => {
    let status: number;
    let message: string;
    if (error instanceof DashboardError) {
      status = error.status;
      message = error.message;
    } else if (error instanceof DomainError && apiCode(error) === undefined) {
      // A domain refusal the API has no code for (the dashboard's own): its category decides.
      status = domainStatus[error.category];
      message = error.param === undefined ? error.message : `${error.param}: ${error.message}`;
    } else {
      const response = toErrorResponse(error, request.id);
      status = response.status;
      const { message: text, param } = response.body.error;
      message = param === undefined ? text : `${param}: ${text}`;
      if (!response.expected) request.log.error({ err: error }, 'unexpected dashboard error');
    }
    return sendPage(view, request, reply, {
      title: `Error ${status}`,
      section: 'home',
      status,
      body: html`<section class="error-page">
        <h1>${status === 404 ? 'Not found' : 'Something is wrong'}</h1>
        <p role="alert">${message}</p>
        <p><a href="${dashboardPrefix}">Back to the dashboard</a></p>
      </section>`,
    });
  });
  app.setNotFoundHandler((request, reply) =>
    sendPage(view, request, reply, {
      title: 'Not found',
      section: 'home',
      status: 404,
      body: html`<section class="error-page">
        <h1>Not found</h1>
        <p role="alert">No dashboard page at ${request.url}.</p>
      </section>`,
    }),
  );
}

export async function registerDashboard(
  app: FastifyInstance,
  context: RouteContext,
  assets: Assets,
): Promise<void> {
  const view: DashboardView = { assets };
  await app.register(
    async (dashboard) => {
      await dashboard.register(cookie);
      installErrorPage(dashboard, view);
      installSessionHooks(dashboard, context);
      registerSignIn(dashboard, context, view);
      registerHomePage(dashboard, context, view);
      registerPaymentPages(dashboard, context, view);
      registerUserPages(dashboard, context, view);
      registerConnectorPages(dashboard, context, view);
      registerApiKeyPages(dashboard, context, view);
      registerAuditPage(dashboard, context, view);
      registerDevelopersPages(dashboard, context, view);
      registerBalancesPage(dashboard, context, view);
      registerPayoutsPage(dashboard, context, view);
      registerSettlementPage(dashboard, context, view);
      registerReconciliationPage(dashboard, context, view);
    },
    { prefix: dashboardPrefix },
  );
}
