import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { registerMetricsRoute } from '../http/routes/metrics.ts';
import { Metrics, statusClass } from './metrics.ts';

describe('Metrics', () => {
  it('records clearing batch sizes and rejects by reason, unknown reasons as other', async () => {
    const metrics = new Metrics();
    metrics.recordSettlementBatch('stripe', 250, { duplicate: 2, unknown_reference: 1 });
    metrics.recordSettlementBatch('stripe', 5, { 'made-up reason': 3 });
    const text = await metrics.render();
    for (const line of [
      'payrail_settlement_batch_items_count{connector="stripe"} 2',
      'payrail_settlement_batch_items_sum{connector="stripe"} 255',
      'payrail_settlement_batch_items_bucket{le="10",connector="stripe"} 1',
      'payrail_settlement_rejected_items_total{connector="stripe",reason="duplicate"} 2',
      'payrail_settlement_rejected_items_total{connector="stripe",reason="unknown_reference"} 1',
      'payrail_settlement_rejected_items_total{connector="stripe",reason="other"} 3',
    ])
      assert.ok(text.includes(line), `missing: ${line}`);
  });

  it('counts payout outcomes; a zero count adds no series', async () => {
    const metrics = new Metrics();
    metrics.recordPayoutOutcomes({ in_transit: 3, failed: 1, paid: 0, returned: 0 });
    metrics.recordPayoutOutcomes({ in_transit: 0, failed: 0, paid: 2, returned: 1 });
    const text = await metrics.render();
    for (const line of [
      'payrail_payout_outcomes_total{outcome="in_transit"} 3',
      'payrail_payout_outcomes_total{outcome="failed"} 1',
      'payrail_payout_outcomes_total{outcome="paid"} 2',
      'payrail_payout_outcomes_total{outcome="returned"} 1',
    ])
      assert.ok(text.includes(line), `missing: ${line}`);
  });

  it('renders what was recorded, with its labels', async () => {
    const metrics = new Metrics();
    metrics.recordPspCall('stripe', 'authorize', 'authorized', 0.12);
    metrics.recordPspCall('stripe', 'authorize', 'authorized', 0.03);
    metrics.recordPspCall('paytm', 'refund', 'unknown', 2.5);
    metrics.recordPspRejection('stripe', 'capture');
    metrics.recordPspRetry('razorpay', 'sync');
    metrics.setBreakerState('stripe', 'closed', false);
    metrics.setBreakerState('razorpay', 'open');
    metrics.recordBulkheadRejection('stripe');
    metrics.setOutbox('events', 12, 3.5);
    metrics.setOutbox('ledger', 0, 0);
    metrics.recordRedelivery('webhooks');
    metrics.recordEventHandled('webhooks', 'succeeded');
    metrics.recordDeadLetter('settlement');
    metrics.recordWebhookDelivery('succeeded', 0.2);
    metrics.recordWebhookDelivery('dead');
    metrics.recordHttpRequest('POST', '/v1/payment_intents', 201, 0.04);
    metrics.recordHttpRequest('GET', '/v1/payment_intents/:id', 404, 0.002);

    const text = await metrics.render();
    const expected = [
      'payrail_psp_calls_total{connector="stripe",operation="authorize",outcome="authorized"} 2',
      'payrail_psp_calls_total{connector="paytm",operation="refund",outcome="unknown"} 1',
      'payrail_psp_calls_total{connector="stripe",operation="capture",outcome="rejected"} 1',
      'payrail_psp_call_duration_seconds_bucket{le="0.05",connector="stripe",operation="authorize",outcome="authorized"} 1',
      'payrail_psp_call_duration_seconds_bucket{le="0.25",connector="stripe",operation="authorize",outcome="authorized"} 2',
      'payrail_psp_call_duration_seconds_count{connector="paytm",operation="refund",outcome="unknown"} 1',
      'payrail_psp_call_retries_total{connector="razorpay",operation="sync"} 1',
      'payrail_circuit_breaker_state{connector="stripe"} 0',
      'payrail_circuit_breaker_state{connector="razorpay"} 2',
      'payrail_circuit_breaker_transitions_total{connector="razorpay",state="open"} 1',
      'payrail_bulkhead_rejections_total{connector="stripe"} 1',
      'payrail_outbox_pending_rows{outbox="events"} 12',
      'payrail_outbox_lag_seconds{outbox="events"} 3.5',
      'payrail_outbox_pending_rows{outbox="ledger"} 0',
      'payrail_event_consumer_redeliveries_total{consumer="webhooks"} 1',
      'payrail_events_handled_total{consumer="webhooks",result="succeeded"} 1',
      'payrail_event_dead_letters_total{consumer="settlement"} 1',
      'payrail_webhook_deliveries_total{result="succeeded"} 1',
      'payrail_webhook_deliveries_total{result="dead"} 1',
      'payrail_webhook_delivery_duration_seconds_count{result="succeeded"} 1',
      'payrail_http_requests_total{method="POST",route="/v1/payment_intents",status_class="2xx"} 1',
      'payrail_http_requests_total{method="GET",route="/v1/payment_intents/:id",status_class="4xx"} 1',
      'payrail_http_request_duration_seconds_count{method="POST",route="/v1/payment_intents",status_class="2xx"} 1',
    ];
    for (const line of expected) assert.ok(text.includes(`${line}\n`), `missing: ${line}`);
    // The start-up state is not a transition; no latency is observed for a delivery without a request.
    assert.ok(!text.includes('payrail_circuit_breaker_transitions_total{connector="stripe"'));
    assert.ok(!text.includes('payrail_webhook_delivery_duration_seconds_count{result="dead"}'));
    assert.match(metrics.contentType, /^text\/plain; version=0\.0\.4/);
  });

  it('keeps separate registries apart and off the global default', async () => {
    const first = new Metrics();
    const second = new Metrics();
    first.recordBulkheadRejection('stripe');
    assert.ok(
      (await first.render()).includes('payrail_bulkhead_rejections_total{connector="stripe"} 1'),
    );
    assert.ok(
      !(await second.render()).includes('payrail_bulkhead_rejections_total{connector="stripe"}'),
    );
    const client = await import('prom-client');
    assert.equal(client.register.getSingleMetric('payrail_bulkhead_rejections_total'), undefined);
  });

  it('adds process metrics only when asked, and drops HTTP metrics when told', async () => {
    const plain = await new Metrics().render();
    assert.ok(!plain.includes('payrail_process_cpu_seconds_total'));
    const withProcess = await new Metrics({ processMetrics: true }).render();
    assert.ok(withProcess.includes('payrail_process_cpu_seconds_total'));
    const noHttp = new Metrics({ httpRequests: false });
    noHttp.recordHttpRequest('GET', '/healthz', 200, 0.001);
    assert.ok(!(await noHttp.render()).includes('payrail_http_requests_total'));
  });

  it('groups status codes into classes', () => {
    assert.equal(statusClass(200), '2xx');
    assert.equal(statusClass(503), '5xx');
    assert.equal(statusClass(42), 'other');
  });
});

describe('GET /metrics', () => {
  it('serves the text format as is, also behind a JSON reply serializer', async () => {
    const metrics = new Metrics();
    metrics.setOutbox('events', 7, 1.25);
    const app = Fastify();
    // As the real app does (src/http/app.ts): a string body would otherwise be JSON-quoted.
    app.setReplySerializer((payload) => JSON.stringify(payload));
    registerMetricsRoute(app, metrics);
    try {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(response.statusCode, 200);
      assert.match(String(response.headers['content-type']), /^text\/plain; version=0\.0\.4/);
      assert.ok(response.body.startsWith('# HELP'));
      assert.ok(response.body.includes('payrail_outbox_pending_rows{outbox="events"} 7\n'));
    } finally {
      await app.close();
    }
  });
});
