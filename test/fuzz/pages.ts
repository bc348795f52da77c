// The page fuzz: every route of the dashboard and the hosted checkout page (the routes for people,
// outside /openapi.json), signed in as a merchant's admin, a merchant's support user and the
// operator, with generated query strings, path ids and form bodies — real ids of both merchants,
// hostile text, wrong types, repeated keys — and the session's own CSRF token most of the time.
// Counted: 5xx answers, hangs, answers that are not a page (HTML, CSV or a same-site redirect),
// GETs that wrote a row, and refused POSTs that wrote a row.
import http from 'node:http';
import fc from 'fast-check';
import { DashboardClient } from '../support/dashboard.ts';
import { call, startTestServer, testAdminKey } from '../support/server.ts';
import { startSimulator } from '../support/processes.ts';
import { pageRoutes, registeredRoutes } from './fuzz.ts';
import { installLoopbackOnlyGuard } from './network-guard.ts';

export type PageFuzzReport = {
  fuzz: 'pages';
  requests: number;
  server_errors: number;
  hangs: number;
  not_a_page: number;
  writes: number;
};

export type PageFuzzResult = {
  report: PageFuzzReport;
  findings: string[];
  routes: string[];
  routesMissed: string[];
  statuses: Record<string, number>;
};

const hostile = [
  '',
  ' ',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' OR 1=1 --",
  '%00',
  '\u0000',
  '😀'.repeat(50),
  'a'.repeat(5000),
  '-1',
  '0',
  '1e400',
  '99999999999999999999',
  'NaN',
  '2026-02-30',
  '../../etc/passwd',
  'javascript:alert(1)',
  '//evil.example',
  'https://evil.example/x',
  'pi_',
  'mch_',
  '4242424242424242',
];

const names = [
  'q',
  'status',
  'connector',
  'currency',
  'amount',
  'amount_min',
  'amount_max',
  'from',
  'to',
  'merchant',
  'starting_after',
  'ending_before',
  'object',
  'action',
  'type',
  'done',
  'next',
  'reason',
  'refund_reason',
  'email',
  'password',
  'role',
  'key',
  'url',
  'enabled_events',
  'id',
  'kind',
  'card_number',
  'exp_month',
  'exp_year',
  'cvc',
  'name',
  'limit',
];

type Generated = {
  readonly method: 'GET' | 'POST';
  readonly route: string;
  readonly path: string;
  readonly fields: [string, string][];
  readonly who: number;
  readonly csrf: 'right' | 'wrong' | 'none';
  readonly htmx: boolean;
};

function request(routes: readonly string[], ids: readonly string[]): fc.Arbitrary<Generated> {
  const value = fc.oneof(
    fc.constantFrom(...hostile),
    fc.constantFrom(...ids),
    fc.string({ maxLength: 40 }),
    fc.integer({ min: -5, max: 100_000 }).map(String),
  );
  const field = fc.tuple(fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })), value);
  return fc
    .record({
      route: fc.constantFrom(...routes),
      fields: fc.array(field, { maxLength: 6 }),
      ids: fc.array(value, { minLength: 4, maxLength: 4 }),
      who: fc.nat({ max: 2 }),
      csrf: fc.constantFrom('right', 'right', 'right', 'wrong', 'none'),
      htmx: fc.boolean(),
    })
    .map(({ route, fields, ids: pathIds, who, csrf, htmx }) => {
      const [method, pattern] = route.split(' ') as ['GET' | 'POST', string];
      let index = 0;
      const path = pattern.replace(/\{[^}]+\}|\*/g, () =>
        encodeURIComponent(pathIds[index++ % 4] ?? 'x'),
      );
      return { method, route, path, fields, who, csrf, htmx };
    });
}

function send(
  base: URL,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; type: string; location: string; text: string } | 'hang' | 'unsent'> {
  return new Promise((resolve) => {
    let outgoing: http.ClientRequest;
    try {
      outgoing = http.request({
        host: base.hostname,
        port: base.port,
        method,
        path,
        agent: false,
        headers: {
          ...headers,
          connection: 'close',
          ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }),
        },
      });
    } catch {
      resolve('unsent');
      return;
    }
    const timer = setTimeout(() => {
      outgoing.destroy();
      resolve('hang');
    }, timeoutMs);
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        clearTimeout(timer);
        resolve({
          status: response.statusCode ?? 0,
          type: String(response.headers['content-type'] ?? ''),
          location: String(response.headers.location ?? ''),
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    outgoing.on('error', () => {
      clearTimeout(timer);
      resolve('hang');
    });
    outgoing.end(body);
  });
}

export async function runPageFuzz(options: {
  readonly requests: number;
  readonly seed: number;
  readonly timeoutMs?: number;
}): Promise<PageFuzzResult> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const guard = installLoopbackOnlyGuard();
  const simulator = await startSimulator();
  const server = await startTestServer('pglite', {
    PAYRAIL_SIMULATOR_URL: simulator.url,
    PAYRAIL_RUN_WORKERS: 'false',
    LOG_LEVEL: 'warn',
  });
  const report: PageFuzzReport = {
    fuzz: 'pages',
    requests: 0,
    server_errors: 0,
    hangs: 0,
    not_a_page: 0,
    writes: 0,
  };
  const findings: string[] = [];
  const statuses: Record<string, number> = {};
  try {
    const routes = registeredRoutes(server.app).filter((route) =>
      pageRoutes.some((pattern) => pattern.test(route.split(' ')[1] ?? '')),
    );
    // Two merchants with a payment each (and a refund), a support user, the operator.
    const ids: string[] = [];
    const merchants: { id: string; key: string }[] = [];
    for (const name of ['Fuzz shop', 'Other shop']) {
      const created = await call(server, 'POST', '/v1/admin/merchants', {
        key: testAdminKey,
        body: { name },
      });
      const merchant = { id: String(created.body.id), key: String(created.body.secret_key) };
      merchants.push(merchant);
      ids.push(merchant.id);
      const payment = await call(server, 'POST', '/v1/payment_intents', {
        key: merchant.key,
        body: { amount: 5000, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
      });
      ids.push(String(payment.body.id));
      // A checkout session and a payment link, so /pay's routes are fuzzed past their lookup.
      const lineItems = [
        {
          price_data: { currency: 'usd', unit_amount: 1500, product_data: { name: 'Tea' } },
          quantity: 2,
        },
      ];
      const session = await call(server, 'POST', '/v1/checkout/sessions', {
        key: merchant.key,
        body: { mode: 'payment', line_items: lineItems, success_url: 'https://shop.example/done' },
      });
      const link = await call(server, 'POST', '/v1/payment_links', {
        key: merchant.key,
        body: { line_items: lineItems },
      });
      if (session.status !== 200 || link.status !== 200)
        throw new Error(`fixtures: ${JSON.stringify(session.body)} ${JSON.stringify(link.body)}`);
      ids.push(String(session.body.id), String(link.body.id));
    }
    const [own] = merchants as [{ id: string; key: string }];
    await server.context.dashboard.users.create({
      email: 'support@fuzz.example',
      password: 'support password 1',
      role: 'support',
      merchantId: own.id,
    });
    const credentials = [
      { key: own.key },
      { email: 'support@fuzz.example', password: 'support password 1' },
      { key: testAdminKey },
    ];
    const clients: DashboardClient[] = [];
    for (const credential of credentials) {
      const client = new DashboardClient(server.url);
      await client.signIn(credential);
      clients.push(client);
    }
    const tables = (
      await server.context.database.query<{ name: string }>(
        "SELECT quote_ident(tablename) AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
      )
    ).rows.map((row) => row.name);
    const countSql = tables
      .map((table) => `SELECT '${table}' AS name, count(*) AS rows FROM ${table}`)
      .join(' UNION ALL ');
    const countRows = async () =>
      new Map(
        (await server.context.database.query<{ name: string; rows: bigint }>(countSql)).rows.map(
          (row) => [row.name, Number(row.rows)],
        ),
      );
    const missed = new Set(routes);
    const base = new URL(server.url);
    // Round 0: one request per route; then random routes.
    const generated = [
      ...routes.flatMap((route, index) =>
        fc.sample(request([route], ids), { numRuns: 1, seed: options.seed + index }),
      ),
      ...fc.sample(request(routes, ids), {
        numRuns: Math.max(0, options.requests - routes.length),
        seed: options.seed + routes.length,
      }),
    ];
    let counts = await countRows();
    for (const item of generated) {
      const client = clients[item.who] as DashboardClient;
      if (!client.cookies.has('payrail_session')) {
        await client.signIn(credentials[item.who] as never);
        counts = await countRows();
      }
      missed.delete(item.route);
      const fields = new URLSearchParams(item.fields);
      if (item.method === 'POST' && item.csrf !== 'none')
        fields.set('_csrf', item.csrf === 'right' ? (client.csrf ?? '') : 'csrf_wrong');
      const query = item.method === 'GET' && item.fields.length > 0 ? `?${fields}` : '';
      const headers: Record<string, string> = {
        cookie: [...client.cookies].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(item.htmx ? { 'hx-request': 'true', 'hx-request-type': 'partial' } : {}),
        ...(item.method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      };
      const answer = await send(
        base,
        item.method,
        `${item.path}${query}`,
        headers,
        item.method === 'POST' ? fields.toString() : undefined,
        timeoutMs,
      );
      const after = await countRows();
      const described = `${item.method} ${item.path.slice(0, 200)}${query.slice(0, 200)} as ${item.who} csrf ${item.csrf}`;
      if (answer === 'unsent') continue;
      report.requests++;
      if (answer === 'hang') {
        report.hangs++;
        findings.push(`hang: ${described}`);
        counts = after;
        continue;
      }
      statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
      if (answer.status >= 500) {
        report.server_errors++;
        findings.push(`${answer.status}: ${described} → ${answer.text.slice(0, 300)}`);
      }
      const redirect = answer.status === 303 || answer.status === 302;
      const page =
        /^text\/(html|csv|css|javascript)/.test(answer.type) ||
        (redirect && answer.location.startsWith('/')) ||
        (answer.status === 204 && answer.text === '') ||
        // A static file that does not exist is the API's 404 (no person reads that URL).
        (item.path.startsWith('/assets/') && answer.status < 500 && answer.status >= 400);
      if (!page) {
        report.not_a_page++;
        findings.push(
          `not a page: ${described} → ${answer.status} ${answer.type} ${answer.location}`,
        );
      }
      // A GET writes nothing, but a payment link's visit, which opens a new Checkout Session (as
      // Stripe's does) and redirects to it.
      const opensSession = item.route === 'GET /pay/link/{id}' && redirect;
      const refused = answer.status >= 400 || (item.method === 'GET' && !opensSession);
      for (const [table, rows] of after)
        if (refused && rows !== counts.get(table) && table !== 'idempotency_keys') {
          report.writes++;
          findings.push(
            `write: ${described} → ${answer.status}: ${table} ${counts.get(table)} → ${rows}`,
          );
          break;
        }
      // A sign-out or a session ended by the request: sign in again before the next one.
      if (redirect && answer.location.startsWith('/dashboard/sign-in')) client.cookies.clear();
      counts = after;
    }
    return { report, findings, routes, routesMissed: [...missed], statuses };
  } finally {
    try {
      await server.stop();
    } finally {
      await simulator.stop();
      guard.uninstall();
    }
  }
}
