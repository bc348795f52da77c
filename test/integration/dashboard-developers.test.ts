// The dashboard's developers pages over HTTP, as a browser without JavaScript uses them: webhook
// endpoints created, disabled, enabled and deleted through the forms and audited; a delivery to a
// failing receiver on 127.0.0.1 going dead and replayed through the page; a dead-lettered bus
// event replayed through the dead-letter queue page; roles; two merchants kept apart on every
// page and fragment; no signing secret after its creation page; no card number in any page.
//
// No workers run in the server (PAYRAIL_RUN_WORKERS=false): the test drives the event bus with
// its own dispatcher (EmbeddedBus.dispatchOnce) and the deliverer with runOnce, never a sleep.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EmbeddedBus, silentLogger } from '../../src/events/bus/index.ts';
import type { EventConsumer } from '../../src/events/consumer.ts';
import { webhookFanout, webhookFanoutConsumerName } from '../../src/webhooks/index.ts';
import { signedIn, type DashboardClient, type PageAnswer } from '../support/dashboard.ts';
import type { Merchant } from '../support/merchants.ts';
import { call, knownTestCardNumbers, testAdminKey, type TestServer } from '../support/server.ts';
import { startSimulatedStack, type SimulatedStack } from '../support/simulator.ts';

type Receiver = {
  readonly url: string;
  /** The status every request is answered with. */
  status: number;
  readonly received: { path: string; eventId: string | undefined }[];
  close(): Promise<void>;
};

async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const state = { status: 503 };
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        eventId: request.headers['webhook-id'] as string | undefined,
      });
      response.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let stack: SimulatedStack;
let server: TestServer;
let receiver: Receiver;
let shop: Merchant;
let other: Merchant;
/** Every page any test read: checked at the end for card numbers and signing secrets. */
const pagesRead: { path: string; body: string; creation: boolean }[] = [];

/** A client whose every answer is kept for the file's last checks. */
function recorded(client: DashboardClient): DashboardClient {
  const request = client.request.bind(client);
  client.request = async (method, path, fields, headers) => {
    const answer = await request(method, path, fields, headers);
    pagesRead.push({
      path,
      body: answer.body,
      creation: method === 'POST' && answer.status === 201,
    });
    return answer;
  };
  return client;
}

async function browser(
  credentials: { key: string } | { email: string; password: string },
): Promise<DashboardClient> {
  return recorded(await signedIn(server.url, credentials));
}

/** Runs the event bus over the outbox with these consumers until nothing is due. */
async function dispatch(consumers: readonly EventConsumer[]): Promise<void> {
  const bus = new EmbeddedBus({
    database: server.context.database,
    consumers,
    maxAttempts: 1,
    logger: silentLogger,
  });
  for (let round = 0; round < 50; round += 1) if (!(await bus.dispatchOnce()).more) return;
  throw new Error('the outbox did not drain');
}

async function payment(key: string): Promise<string> {
  const paid = await call(server, 'POST', '/v1/payment_intents', {
    key,
    body: { amount: 2500, currency: 'usd', payment_method: 'pm_card_visa', confirm: true },
  });
  assert.equal(paid.status, 200, JSON.stringify(paid.body));
  return String(paid.body.id);
}

async function eventIdOf(key: string, type: string, objectId: string): Promise<string> {
  const listed = await call(server, 'GET', `/v1/events?type=${type}&limit=100`, { key });
  const found = (listed.body.data as { id: string; data: { object: { id: string } } }[]).find(
    (event) => event.data.object.id === objectId,
  );
  assert.ok(found, `no ${type} event for ${objectId}`);
  return found.id;
}

/** Each input, select and textarea of the page (hidden ones aside) has its label. */
function assertLabelled(page: PageAnswer): void {
  for (const match of page.body.matchAll(/<(input|select|textarea)\b([^>]*)>/g)) {
    const attributes = match[2] ?? '';
    if (/type="hidden"/.test(attributes)) continue;
    const id = /\bid="([^"]+)"/.exec(attributes)?.[1];
    assert.ok(id !== undefined, `an unlabelled ${match[0]}`);
    assert.ok(page.body.includes(`for="${id}"`), `no label for #${id}`);
  }
  for (const header of page.body.matchAll(/<th\b[^>]*>/g))
    assert.match(header[0], /scope="(col|row)"/);
}

/** The `_once` token of the first form of the page that carries one. */
function onceIn(body: string): string {
  const token = /name="_once" value="([^"]+)"/.exec(body)?.[1];
  assert.ok(token !== undefined, 'no _once field in the page');
  return token;
}

/** Draws the endpoints page (of `query`'s account) and sends its creation form. */
async function createEndpoint(
  client: DashboardClient,
  fields: Record<string, string>,
  query = '',
): Promise<PageAnswer> {
  const page = await client.get(`/dashboard/developers/webhooks${query}`);
  return client.post(`/dashboard/developers/webhooks${query}`, {
    _once: onceIn(page.body),
    ...fields,
  });
}

function endpointIdIn(body: string): string {
  const id = /href="\/dashboard\/developers\/webhooks\/(we_[A-Za-z0-9]+)/.exec(body)?.[1];
  assert.ok(id !== undefined, 'no endpoint link in the page');
  return id;
}

before(async () => {
  stack = await startSimulatedStack({
    env: {
      PAYRAIL_WEBHOOK_ALLOW_LOOPBACK: '1', // the receiver is on 127.0.0.1
      PAYRAIL_RUN_WORKERS: 'false',
      // One retry, at once: the second failed attempt makes the delivery dead.
      PAYRAIL_WEBHOOK_RETRY_SCHEDULE_MS: '0',
    },
  });
  server = stack.server;
  receiver = await startReceiver();
  shop = await stack.merchant('Shop');
  other = await stack.merchant('Other');
});
after(async () => {
  await receiver.close();
  await stack.stop();
});

describe('developers pages', () => {
  let shopEndpoint: string;
  let deadDelivery: string;
  let deadEvent: string;

  test('the index links to API keys, webhooks and events; the dead-letter queue for the operator only', async () => {
    const merchant = await browser({ key: shop.key });
    const index = await merchant.get('/dashboard/developers');
    assert.equal(index.status, 200);
    for (const path of ['api-keys', 'webhooks', 'events'])
      assert.match(index.body, new RegExp(`href="/dashboard/developers/${path}"`));
    assert.doesNotMatch(index.body, /dead-letters/);
    assert.match(index.body, /href="\/dashboard\/developers"\s+aria-current="page"/);
    const operator = await browser({ key: testAdminKey });
    const operatorIndex = await operator.get('/dashboard/developers');
    assert.match(operatorIndex.body, /href="\/dashboard\/developers\/dead-letters"/);
    // API keys are a merchant's: the operator names one first, and the links keep it.
    assert.doesNotMatch(operatorIndex.body, /href="\/dashboard\/developers\/api-keys/);
    const named = await operator.get(`/dashboard/developers?merchant=${shop.id}`);
    for (const path of ['api-keys', 'webhooks', 'events'])
      assert.ok(named.body.includes(`href="/dashboard/developers/${path}?merchant=${shop.id}"`));
    assertLabelled(named);
  });

  test('an endpoint is created (its secret shown once), disabled, enabled and deleted through the pages, each audited', async () => {
    const merchant = await browser({ key: shop.key });
    const empty = await merchant.get('/dashboard/developers/webhooks');
    assert.equal(empty.status, 200);
    assertLabelled(empty);
    assert.match(empty.body, /No endpoints\./);
    const createFields = {
      _once: onceIn(empty.body),
      url: `${receiver.url}/hook`,
      description: 'Orders <service>',
      'enabled_events[0]': 'payment_intent.succeeded',
      'enabled_events[1]': 'charge.succeeded',
      reason: 'the order service listens',
    };
    const created = await merchant.post('/dashboard/developers/webhooks', createFields);
    assert.equal(created.status, 201, created.body);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(created.body)?.[0];
    assert.ok(secret !== undefined, 'the creation page shows the signing secret');
    assert.match(created.body, /shown only here/);
    shopEndpoint = endpointIdIn(created.body);
    // The same form sent again (a double click, a reload): the same endpoint, not a second one.
    const again = await merchant.post('/dashboard/developers/webhooks', createFields);
    assert.equal(again.status, 201);
    assert.equal(endpointIdIn(again.body), shopEndpoint);
    assert.ok(again.body.includes(secret));
    const listed = await server.context.webhooks?.endpoints.list(shop.id, { limit: 10 });
    assert.equal(listed?.endpoints.length, 1);

    const list = await merchant.get('/dashboard/developers/webhooks');
    assert.match(list.body, new RegExp(`data-endpoint="${shopEndpoint}"`));
    assert.match(list.body, /<code>payment_intent\.succeeded<\/code>, <code>charge\.succeeded/);
    const detail = await merchant.get(`/dashboard/developers/webhooks/${shopEndpoint}`);
    assert.equal(detail.status, 200);
    assertLabelled(detail);
    assert.match(detail.body, /Orders &lt;service&gt;/);
    assert.match(detail.body, /<span class="status enabled">enabled<\/span>/);
    for (const page of [list, detail]) assert.doesNotMatch(page.body, /whsec_/);

    // A reason is required, and checked by the server, not only by the form.
    const noReason = await merchant.post(`/dashboard/developers/webhooks/${shopEndpoint}/disable`);
    assert.equal(noReason.status, 400);
    assert.match(noReason.body, /reason: give a reason/);
    const disabled = await merchant.post(`/dashboard/developers/webhooks/${shopEndpoint}/disable`, {
      reason: 'maintenance of the receiver',
    });
    assert.equal(disabled.status, 303);
    assert.equal(disabled.location, `/dashboard/developers/webhooks/${shopEndpoint}?done=disabled`);
    const afterDisable = await merchant.get(disabled.location ?? '');
    assert.match(afterDisable.body, /<span class="status disabled">disabled<\/span>/);
    assert.match(afterDisable.body, /The endpoint is disabled/);
    assert.match(afterDisable.body, /Enable endpoint/);
    const enabled = await merchant.post(`/dashboard/developers/webhooks/${shopEndpoint}/enable`, {
      reason: 'receiver back',
    });
    assert.equal(enabled.status, 303);
    assert.match(
      (await merchant.get(`/dashboard/developers/webhooks/${shopEndpoint}`)).body,
      /<span class="status enabled">enabled<\/span>/,
    );

    const spare = await createEndpoint(merchant, {
      url: `${receiver.url}/spare`,
      'enabled_events[0]': '*',
      reason: 'a spare endpoint',
    });
    assert.equal(spare.status, 201);
    const spareId = endpointIdIn(spare.body);
    const spareForm = await merchant.get(`/dashboard/developers/webhooks/${spareId}`);
    const deleteFields = { _once: onceIn(spareForm.body), reason: 'not needed after all' };
    const deleted = await merchant.post(
      `/dashboard/developers/webhooks/${spareId}/delete`,
      deleteFields,
    );
    assert.equal(deleted.status, 303);
    assert.equal(deleted.location, '/dashboard/developers/webhooks?done=deleted');
    assert.match((await merchant.get(deleted.location ?? '')).body, /The endpoint is deleted/);
    const deletedAgain = await merchant.post(
      `/dashboard/developers/webhooks/${spareId}/delete`,
      deleteFields,
    );
    assert.equal(deletedAgain.status, 303);
    assert.equal(deletedAgain.location, deleted.location);
    const spareAudit = await server.context.dashboard.audit.list(
      shop.id,
      { objectId: spareId },
      { limit: 10 },
    );
    assert.deepEqual(
      spareAudit.rows.map((entry) => entry.action),
      ['webhook_endpoint.delete', 'webhook_endpoint.create'],
    );
    assert.equal((await merchant.get(`/dashboard/developers/webhooks/${spareId}`)).status, 404);

    // What the API refuses, the page refuses too, naming the field.
    const badUrl = await createEndpoint(merchant, {
      url: 'http://example.com/plain-http',
      'enabled_events[0]': '*',
      reason: 'a wrong one',
    });
    assert.equal(badUrl.status, 400);
    assert.match(badUrl.body, /url: Invalid URL/);

    const audit = await merchant.get('/dashboard/audit');
    for (const action of [
      'webhook_endpoint.create',
      'webhook_endpoint.disable',
      'webhook_endpoint.enable',
      'webhook_endpoint.delete',
    ])
      assert.match(audit.body, new RegExp(`<code>${action.replace('.', '\\.')}</code>`));
    assert.match(audit.body, /maintenance of the receiver/);
    assert.match(audit.body, /&quot;status&quot;: &quot;disabled&quot;/);
    assert.doesNotMatch(audit.body, /whsec_|secret/);
    const entries = await server.context.dashboard.audit.list(
      shop.id,
      { objectId: shopEndpoint },
      { limit: 10 },
    );
    assert.deepEqual(entries.rows.map((entry) => entry.action).sort(), [
      'webhook_endpoint.create',
      'webhook_endpoint.disable',
      'webhook_endpoint.enable',
    ]);
  });

  test('a delivery to a failing receiver goes dead, shows on the page, and is replayed through it', async () => {
    receiver.status = 503;
    const intent = await payment(shop.key);
    await dispatch([webhookFanout]);
    const deliverer = server.context.webhooks?.deliverer;
    assert.ok(deliverer);
    const outcomes = [
      ...(await deliverer.runOnce()).map((result) => result.outcome),
      ...(await deliverer.runOnce()).map((result) => result.outcome),
    ];
    // Two events (charge.succeeded, payment_intent.succeeded), each retried once then dead.
    assert.deepEqual(outcomes.sort(), ['dead', 'dead', 'retrying', 'retrying']);

    const merchant = await browser({ key: shop.key });
    const page = await merchant.get(`/dashboard/developers/webhooks/${shopEndpoint}?status=dead`);
    assert.equal(page.status, 200);
    assertLabelled(page);
    const rows = [...page.body.matchAll(/data-delivery="(wd_[A-Za-z0-9]+)"/g)].map((m) => m[1]);
    assert.equal(rows.length, 2);
    assert.match(page.body, /<span class="status dead">dead<\/span>/);
    assert.match(page.body, /<td>503<\/td>|<td>503<br/);
    assert.match(page.body, /<option value="dead" selected>/);
    const succeeded = await merchant.get(
      `/dashboard/developers/webhooks/${shopEndpoint}?status=succeeded`,
    );
    assert.match(succeeded.body, /No deliveries\./);

    deadEvent = await eventIdOf(shop.key, 'payment_intent.succeeded', intent);
    const eventPage = await merchant.get(`/dashboard/developers/events/${deadEvent}`);
    assert.equal(eventPage.status, 200);
    deadDelivery = /data-delivery="(wd_[A-Za-z0-9]+)"/.exec(eventPage.body)?.[1] ?? '';
    assert.ok(rows.includes(deadDelivery));
    assert.match(eventPage.body, /<span class="status dead">dead<\/span>/);
    // The payload, indented and escaped, as the API shows it.
    assert.match(eventPage.body, /<pre id="payload">\{\n {2}&quot;id&quot;: &quot;evt_/);
    assert.match(eventPage.body, new RegExp(`&quot;id&quot;: &quot;${intent}&quot;`));
    assert.match(eventPage.body, /&quot;amount&quot;: 2500,/);

    receiver.status = 200;
    const deadPage = await merchant.get(
      `/dashboard/developers/webhooks/${shopEndpoint}?status=dead`,
    );
    const retryFields = { reason: 'receiver fixed', _once: onceIn(deadPage.body) };
    const retried = await merchant.post(
      `/dashboard/developers/webhooks/${shopEndpoint}/deliveries/${deadDelivery}/retry`,
      retryFields,
    );
    assert.equal(retried.status, 303, retried.body);
    assert.equal(retried.location, `/dashboard/developers/webhooks/${shopEndpoint}?done=retried`);
    const pending = await merchant.get(retried.location ?? '');
    assert.match(
      pending.body,
      new RegExp(`data-delivery="${deadDelivery}">[\\s\\S]*?status pending`),
    );
    const [sent] = await deliverer.runOnce();
    assert.equal(sent?.deliveryId, deadDelivery);
    assert.equal(sent?.outcome, 'succeeded');
    assert.equal(sent?.attemptNumber, 3);
    assert.equal(receiver.received.at(-1)?.eventId, deadEvent);
    const done = await merchant.get(
      `/dashboard/developers/webhooks/${shopEndpoint}?status=succeeded`,
    );
    assert.match(done.body, new RegExp(`data-delivery="${deadDelivery}"`));
    assert.match(done.body, /<span class="status succeeded">succeeded<\/span>/);
    assert.match(done.body, /3 attempts/);

    const [entry] = (
      await server.context.dashboard.audit.list(
        shop.id,
        { objectId: deadDelivery, action: 'webhook_delivery.retry' },
        { limit: 10 },
      )
    ).rows;
    assert.equal(entry?.reason, 'receiver fixed');
    assert.equal((entry?.before as { status: string }).status, 'dead');
    assert.equal((entry?.after as { status: string }).status, 'pending');
  });

  test('the events list filters by type and day, pages by keyset, and answers 400 naming a bad field', async () => {
    const merchant = await browser({ key: shop.key });
    const list = await merchant.get('/dashboard/developers/events');
    assert.equal(list.status, 200);
    assertLabelled(list);
    assert.match(list.body, new RegExp(`data-event="${deadEvent}"`));
    const typed = await merchant.get('/dashboard/developers/events?type=charge.*');
    assert.doesNotMatch(typed.body, new RegExp(`data-event="${deadEvent}"`));
    assert.match(typed.body, /<code>charge\.succeeded<\/code>/);
    const today = new Date().toISOString().slice(0, 10);
    const day = await merchant.get(
      `/dashboard/developers/events?created_from=${today}&created_to=${today}`,
    );
    assert.match(day.body, new RegExp(`data-event="${deadEvent}"`));
    const past = await merchant.get(
      '/dashboard/developers/events?created_from=2020-01-01&created_to=2020-01-02',
    );
    assert.match(past.body, /No events\./);
    // Keyset paging: older than the newest event, the newest is not listed again.
    const events = [...list.body.matchAll(/data-event="(evt_[A-Za-z0-9]+)"/g)].map((m) => m[1]);
    assert.ok(events.length >= 2);
    const older = await merchant.get(`/dashboard/developers/events?starting_after=${events[0]}`);
    assert.doesNotMatch(older.body, new RegExp(`data-event="${events[0]}"`));
    assert.match(older.body, new RegExp(`data-event="${events[1]}"`));
    assert.match(older.body, /rel="prev" href="\/dashboard\/developers\/events\?ending_before=/);

    const bad: [string, RegExp][] = [
      ['/dashboard/developers/events?type=%3Cscript%3E', /type: an event type/],
      ['/dashboard/developers/events?created_from=2026-02-30', /created_from: a date/],
      [
        '/dashboard/developers/events?created_from=2026-02-03&created_to=2026-02-01',
        /created_to: on or after/,
      ],
      ['/dashboard/developers/events?starting_after=evt_%3C', /starting_after: not an id/],
      [`/dashboard/developers/webhooks/${shopEndpoint}?status=lost`, /status: one of pending/],
      ['/dashboard/developers/webhooks?done=hacked', /done: one of deleted/],
    ];
    for (const [path, message] of bad) {
      const answer = await merchant.get(path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.body, message, path);
    }
  });

  test('a dead-lettered bus event is replayed through the dead-letter queue page', async () => {
    // The fan-out fails for the next event (its consumer gives up after one attempt).
    const broken: EventConsumer = {
      name: webhookFanoutConsumerName,
      handle() {
        return Promise.reject(new Error('endpoint table <unavailable>'));
      },
    };
    const intent = await payment(shop.key);
    await dispatch([broken]);
    const event = await eventIdOf(shop.key, 'payment_intent.succeeded', intent);
    const operator = await browser({ key: testAdminKey });
    const list = await operator.get('/dashboard/developers/dead-letters?status=pending');
    assert.equal(list.status, 200);
    assertLabelled(list);
    const rows = [...list.body.matchAll(/data-dead-letter="(dl_[A-Za-z0-9]+)"/g)].map((m) => m[1]);
    assert.equal(rows.length, 3, "the payment's three events");
    assert.match(list.body, /<code>webhook_fanout<\/code>/);
    assert.match(list.body, /endpoint table &lt;unavailable&gt;/);
    assert.ok(list.body.includes(event));
    const deadLetter = (await server.context.deadLetters.list({ limit: 10 })).deadLetters.find(
      (entry) => entry.eventId === event,
    );
    assert.ok(deadLetter);
    assert.match(
      (await operator.get('/dashboard/developers/dead-letters?consumer=velocity')).body,
      /No dead letters\./,
    );
    // No delivery of that event yet: the fan-out never ran for it.
    const merchant = await browser({ key: shop.key });
    assert.match(
      (await merchant.get(`/dashboard/developers/events/${event}`)).body,
      /No deliveries: no endpoint/,
    );

    const letterPage = await operator.get(`/dashboard/developers/dead-letters/${deadLetter.id}`);
    const replayFields = { reason: 'the table is back', _once: onceIn(letterPage.body) };
    const replayed = await operator.post(
      `/dashboard/developers/dead-letters/${deadLetter.id}/replay`,
      replayFields,
    );
    // The same form sent again (a double click) replays nothing more.
    const again = await operator.post(
      `/dashboard/developers/dead-letters/${deadLetter.id}/replay`,
      replayFields,
    );
    assert.equal(again.location, replayed.location);
    assert.equal(replayed.status, 303, replayed.body);
    assert.equal(replayed.location, `/dashboard/developers/dead-letters/${deadLetter.id}`);
    const detail = await operator.get(replayed.location ?? '');
    assert.equal(detail.status, 200);
    assert.match(detail.body, /Last replay: <strong>handled<\/strong>, by admin key/);
    assert.match(detail.body, /<span class="status replayed">replayed<\/span>/);
    const replayedList = await operator.get('/dashboard/developers/dead-letters?status=replayed');
    assert.match(replayedList.body, new RegExp(`data-dead-letter="${deadLetter.id}"`));
    // The replayed fan-out made the delivery the event should have had.
    const eventPage = await merchant.get(`/dashboard/developers/events/${event}`);
    assert.match(eventPage.body, /<span class="status pending">pending<\/span>/);
    assert.match(eventPage.body, new RegExp(`/dashboard/developers/webhooks/${shopEndpoint}`));
    // A second replay is harmless: the consumer's inbox has the event.
    const replayedPage = await operator.get(replayed.location ?? '');
    await operator.post(`/dashboard/developers/dead-letters/${deadLetter.id}/replay`, {
      reason: 'once more',
      _once: onceIn(replayedPage.body),
    });
    assert.match(
      (await operator.get(replayed.location ?? '')).body,
      /Last replay: <strong>duplicate<\/strong>/,
    );
    const audited = await server.context.dashboard.audit.list(
      null,
      { objectId: deadLetter.id },
      { limit: 10 },
    );
    assert.deepEqual(
      audited.rows.map((entry) => (entry.after as { outcome: string }).outcome),
      ['duplicate', 'handled'],
    );
    assert.equal(audited.rows[0]?.merchantId, null);

    // A merchant's session: the queue does not exist for it.
    for (const path of [
      '/dashboard/developers/dead-letters',
      `/dashboard/developers/dead-letters/${deadLetter.id}`,
    ]) {
      const answer = await merchant.get(path);
      assert.equal(answer.status, 404, path);
      assert.match(answer.body, /No dashboard page at/);
    }
    const refused = await merchant.post(
      `/dashboard/developers/dead-letters/${deadLetter.id}/replay`,
      { reason: 'let me in' },
    );
    assert.equal(refused.status, 404);
    for (const [path, message] of [
      ['/dashboard/developers/dead-letters?status=gone', /status: one of pending, replayed/],
      ['/dashboard/developers/dead-letters?consumer=Not%20One', /consumer: a consumer name/],
    ] as const) {
      const answer = await operator.get(path);
      assert.equal(answer.status, 400);
      assert.match(answer.body, message);
    }
    assert.equal((await operator.get('/dashboard/developers/dead-letters/dl_nothing')).status, 404);
  });

  test('a support user reads the pages but every action answers 403', async () => {
    await server.context.dashboard.users.create({
      email: 'support@shop.example',
      password: 'support password here',
      role: 'support',
      merchantId: shop.id,
    });
    await server.context.dashboard.users.create({
      email: 'support@operator.example',
      password: 'support password here',
      role: 'support',
      merchantId: null,
    });
    const support = await browser({
      email: 'support@shop.example',
      password: 'support password here',
    });
    const page = await support.get(`/dashboard/developers/webhooks/${shopEndpoint}`);
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /Disable endpoint|Send wd_|class="row-action"/);
    assert.match((await support.get('/dashboard/developers/webhooks')).body, /may look at/);
    const before = await server.context.dashboard.audit.list(shop.id, {}, { limit: 100 });
    const actions: [string, Record<string, string>][] = [
      [
        '/dashboard/developers/webhooks',
        { url: `${receiver.url}/x`, 'enabled_events[0]': '*', reason: 'support tries' },
      ],
      [`/dashboard/developers/webhooks/${shopEndpoint}/disable`, { reason: 'support tries' }],
      [`/dashboard/developers/webhooks/${shopEndpoint}/enable`, { reason: 'support tries' }],
      [`/dashboard/developers/webhooks/${shopEndpoint}/delete`, { reason: 'support tries' }],
      [
        `/dashboard/developers/webhooks/${shopEndpoint}/deliveries/${deadDelivery}/retry`,
        { reason: 'support tries' },
      ],
    ];
    for (const [path, fields] of actions) {
      const answer = await support.post(path, fields);
      assert.equal(answer.status, 403, path);
      assert.match(answer.body, /Your role \(support\) may not do this/);
    }
    const operatorSupport = await browser({
      email: 'support@operator.example',
      password: 'support password here',
    });
    const [deadLetter] = (await server.context.deadLetters.list({ limit: 1 })).deadLetters;
    assert.ok(deadLetter);
    const replay = await operatorSupport.post(
      `/dashboard/developers/dead-letters/${deadLetter.id}/replay`,
      { reason: 'support tries' },
    );
    assert.equal(replay.status, 403);
    const platform = await operatorSupport.post('/dashboard/developers/webhooks', {
      url: `${receiver.url}/ops`,
      'enabled_events[0]': '*',
      reason: 'support tries',
    });
    assert.equal(platform.status, 403);
    const afterwards = await server.context.dashboard.audit.list(shop.id, {}, { limit: 100 });
    assert.equal(afterwards.rows.length, before.rows.length, 'nothing was done, nothing audited');
    assert.equal(
      (await server.context.webhooks?.endpoints.retrieve(shop.id, shopEndpoint))?.status,
      'enabled',
    );
  });

  test("merchants are kept apart on every page and fragment: another's id is a 404 like a missing one", async () => {
    const intruder = await browser({ key: other.key });
    const missingEndpoint = 'we_0000000000000000000000';
    const missingEvent = 'evt_0000000000000000000000';
    const missingDelivery = 'wd_0000000000000000000000';
    const fragment = { 'hx-request': 'true', 'hx-request-type': 'partial' };
    for (const headers of [{}, fragment]) {
      for (const path of [
        '/dashboard/developers',
        '/dashboard/developers/webhooks',
        '/dashboard/developers/events',
        `/dashboard/developers/webhooks?merchant=${shop.id}`,
        `/dashboard/developers/events?merchant=${shop.id}`,
      ]) {
        const page = await intruder.get(path, headers);
        assert.equal(page.status, 200, path);
        assert.ok(!page.body.includes(shop.id), path);
        assert.ok(!page.body.includes(shopEndpoint), path);
        assert.ok(!page.body.includes(deadEvent), path);
        assert.ok(!page.body.includes(receiver.url), path);
      }
      const pairs: [string, string, string][] = [
        [
          `/dashboard/developers/webhooks/${shopEndpoint}`,
          `/dashboard/developers/webhooks/${missingEndpoint}`,
          shopEndpoint,
        ],
        [
          `/dashboard/developers/events/${deadEvent}`,
          `/dashboard/developers/events/${missingEvent}`,
          deadEvent,
        ],
        [
          `/dashboard/developers/webhooks/${shopEndpoint}?merchant=${shop.id}`,
          `/dashboard/developers/webhooks/${missingEndpoint}?merchant=${shop.id}`,
          shopEndpoint,
        ],
      ];
      for (const [theirs, missing, id] of pairs) {
        const answer = await intruder.get(theirs, headers);
        const none = await intruder.get(missing, headers);
        assert.equal(answer.status, 404, theirs);
        assert.equal(none.status, 404, missing);
        const missingId = /(we|evt)_0+/.exec(missing)?.[0] ?? '';
        assert.equal(answer.body.replaceAll(id, 'ID'), none.body.replaceAll(missingId, 'ID'));
      }
    }
    const posts: [string, string][] = [
      [
        `/dashboard/developers/webhooks/${shopEndpoint}/disable`,
        `/dashboard/developers/webhooks/${missingEndpoint}/disable`,
      ],
      [
        `/dashboard/developers/webhooks/${shopEndpoint}/delete`,
        `/dashboard/developers/webhooks/${missingEndpoint}/delete`,
      ],
      [
        `/dashboard/developers/webhooks/${shopEndpoint}/deliveries/${deadDelivery}/retry`,
        `/dashboard/developers/webhooks/${missingEndpoint}/deliveries/${missingDelivery}/retry`,
      ],
    ];
    for (const [theirs, missing] of posts) {
      const fields = { reason: 'intruding', _once: 'intruder_once_token_1' };
      const answer = await intruder.post(theirs, fields);
      const none = await intruder.post(missing, { ...fields, _once: 'intruder_once_token_2' });
      assert.equal(answer.status, 404, theirs);
      assert.equal(none.status, 404, missing);
    }
    // The intruder's own endpoint cannot reach the shop's delivery through its URL either.
    const own = await createEndpoint(intruder, {
      url: `${receiver.url}/other`,
      'enabled_events[0]': '*',
      reason: 'own endpoint',
    });
    const ownId = endpointIdIn(own.body);
    const cross = await intruder.post(
      `/dashboard/developers/webhooks/${ownId}/deliveries/${deadDelivery}/retry`,
      { reason: 'intruding' },
    );
    assert.equal(cross.status, 404);
    // The shop's endpoint is untouched and nothing was audited for it by the intruder.
    assert.equal(
      (await server.context.webhooks?.endpoints.retrieve(shop.id, shopEndpoint))?.status,
      'enabled',
    );
    const audit = await intruder.get('/dashboard/audit');
    assert.ok(!audit.body.includes(shopEndpoint));
    // And the shop does not see the intruder's endpoint.
    const merchant = await browser({ key: shop.key });
    assert.ok(!(await merchant.get('/dashboard/developers/webhooks')).body.includes(ownId));
    assert.equal((await merchant.get(`/dashboard/developers/webhooks/${ownId}`)).status, 404);
  });

  test("the operator manages the platform account's endpoints, and a merchant's with ?merchant=", async () => {
    const operator = await browser({ key: testAdminKey });
    const platform = await operator.get('/dashboard/developers/webhooks');
    assert.equal(platform.status, 200);
    assert.match(platform.body, /Showing <code>mch_platform<\/code>/);
    assert.ok(!platform.body.includes(shopEndpoint));
    const created = await createEndpoint(operator, {
      url: `${receiver.url}/ops`,
      'enabled_events[0]': 'reconciliation_exception.created',
      reason: 'operations on call',
    });
    assert.equal(created.status, 201);
    const opsEndpoint = endpointIdIn(created.body);
    const listed = await call(server, 'GET', '/v1/admin/webhook_endpoints', { key: testAdminKey });
    assert.deepEqual(
      (listed.body.data as { id: string }[]).map((endpoint) => endpoint.id),
      [opsEndpoint],
    );
    // Audited for the operator only (no merchant).
    const [entry] = (
      await server.context.dashboard.audit.list(null, { objectId: opsEndpoint }, { limit: 5 })
    ).rows;
    assert.equal(entry?.merchantId, null);
    const shopAudit = await (await browser({ key: shop.key })).get('/dashboard/audit');
    assert.ok(!shopAudit.body.includes(opsEndpoint));

    const theirs = await operator.get(`/dashboard/developers/webhooks?merchant=${shop.id}`);
    assert.match(theirs.body, new RegExp(`data-endpoint="${shopEndpoint}"`));
    // Links and forms keep the merchant.
    assert.match(
      theirs.body,
      new RegExp(`href="/dashboard/developers/webhooks/${shopEndpoint}\\?merchant=${shop.id}"`),
    );
    const detail = await operator.get(
      `/dashboard/developers/webhooks/${shopEndpoint}?merchant=${shop.id}`,
    );
    assert.match(detail.body, new RegExp(`data-delivery="${deadDelivery}"`));
    const disabled = await operator.post(
      `/dashboard/developers/webhooks/${shopEndpoint}/disable?merchant=${shop.id}`,
      { reason: 'merchant asked by phone' },
    );
    assert.equal(disabled.status, 303);
    assert.equal(
      disabled.location,
      `/dashboard/developers/webhooks/${shopEndpoint}?merchant=${shop.id}&done=disabled`,
    );
    // The merchant sees the operator's action in its own audit log.
    const [audited] = (
      await server.context.dashboard.audit.list(
        shop.id,
        { objectId: shopEndpoint, action: 'webhook_endpoint.disable' },
        { limit: 1 },
      )
    ).rows;
    assert.equal(audited?.actor, 'admin key');
    assert.equal(audited?.reason, 'merchant asked by phone');
    // Without ?merchant= the shop's endpoint is not the platform account's.
    assert.equal(
      (await operator.get(`/dashboard/developers/webhooks/${shopEndpoint}`)).status,
      404,
    );
    const events = await operator.get(`/dashboard/developers/events?merchant=${shop.id}`);
    assert.match(events.body, new RegExp(`data-event="${deadEvent}"`));
    assert.match(
      (await operator.get(`/dashboard/developers/events/${deadEvent}?merchant=${shop.id}`)).body,
      /<pre id="payload">/,
    );
    // Acting on a merchant that does not exist is refused as missing; a malformed one is a 400.
    const ghost = await operator.post('/dashboard/developers/webhooks?merchant=mch_0000000000', {
      url: `${receiver.url}/ghost`,
      'enabled_events[0]': '*',
      reason: 'nobody',
    });
    assert.equal(ghost.status, 404);
    const malformed = await operator.get('/dashboard/developers/webhooks?merchant=shop');
    assert.equal(malformed.status, 400);
    assert.match(malformed.body, /merchant: not a merchant id/);
  });

  test('no page read in this file shows a card number, and only creation pages a signing secret', () => {
    assert.ok(pagesRead.length > 50);
    for (const page of pagesRead) {
      for (const number of knownTestCardNumbers)
        assert.ok(!page.body.includes(number), `a card number in ${page.path}`);
      if (!page.creation) assert.doesNotMatch(page.body, /whsec_/, page.path);
    }
    assert.ok(pagesRead.some((page) => page.creation && page.body.includes('whsec_')));
  });
});
