// Connectors: each PSP's health now (success rate, p50/p99 latency and calls over the last 15
// minutes, the circuit breaker's state) and over time as uPlot charts (success rate with the
// breaker state; p50 and p99 latency), from src/observability/connector-health.ts. The charts'
// data travel in JSON islands that web/dashboard.js draws; the table works without JavaScript.
//
// PSP health is the platform's, not one merchant's (every merchant shares the connectors): every
// signed-in role sees it, and it shows no merchant's data.
import type { FastifyInstance } from 'fastify';
import type { HealthSeries } from '../../../observability/connector-health-store.ts';
import type { BreakerState } from '../../../observability/metrics.ts';
import { escapeHtml, html, raw, type Html } from '../../../web/html.ts';
import type { RouteContext } from '../../context.ts';
import { requirePermission } from '../access.ts';
import { DashboardError } from '../errors.ts';
import { dashboardPrefix, registerSection, sendPage, type DashboardView } from '../layout.ts';

/** The ranges offered, and the bucket each is drawn with (at most a few hundred points). */
const ranges = {
  '1h': { label: 'Last hour', seconds: 3_600, bucketSeconds: 60 },
  '6h': { label: '6 hours', seconds: 6 * 3_600, bucketSeconds: 60 },
  '24h': { label: '24 hours', seconds: 24 * 3_600, bucketSeconds: 300 },
  '7d': { label: '7 days', seconds: 7 * 24 * 3_600, bucketSeconds: 1_800 },
} as const;
type RangeName = keyof typeof ranges;

const connectorPattern = /^[a-z0-9_-]{1,64}$/;

/** Breaker state → the status badge classes dashboard.css already colours. */
const breakerBadge: Record<BreakerState, { tone: string; label: string }> = {
  closed: { tone: 'closed', label: 'closed' },
  half_open: { tone: 'pending', label: 'half-open' },
  open: { tone: 'open', label: 'open' },
};

function percent(rate: number | null): string {
  return rate === null ? '—' : `${(Math.floor(rate * 1000) / 10).toFixed(1)} %`;
}

function milliseconds(value: number | null): string {
  if (value === null) return '—';
  return value >= 1_000 ? `${(value / 1_000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

/**
 * A chart's data for web/dashboard.js: a JSON island naming the element it is drawn into. `<` is
 * escaped so that nothing in the data can close the script element.
 */
function chartIsland(holderId: string, spec: unknown): Html {
  const json = JSON.stringify(spec).replaceAll('<', '\\u003c');
  return raw(
    `<script type="application/json" data-chart="${escapeHtml(holderId)}">${json}</script>`,
  );
}

function charts(series: HealthSeries): Html {
  const id = `chart-${series.connector}`;
  const quiet = series.calls.every((calls, index) => !calls && !series.rejected[index]);
  if (quiet)
    return html`<section class="connector" aria-labelledby="${id}-title">
    <h2 id="${id}-title">${series.connector}</h2>
    <p>No call to this PSP in this range.</p>
  </section>`;
  const rate = series.successRate.map((value) =>
    value === null ? null : Math.round(value * 1000) / 10,
  );
  return html`<section class="connector" aria-labelledby="${id}-title">
    <h2 id="${id}-title">${series.connector}</h2>
    <div class="chart" id="${id}-rate" role="img" aria-label="${series.connector}: success rate and breaker state over time"></div>
    ${chartIsland(`${id}-rate`, {
      title: 'Answered calls (%) and breaker state',
      series: [
        { label: 'success rate', color: '#1a7f37', scale: 'pct', unit: ' %' },
        { label: 'breaker (0 closed, 1 half-open, 2 open)', color: '#cf222e', scale: 'state' },
        { label: 'calls', color: '#6e7781', scale: 'calls' },
      ],
      axes: [
        { scale: 'pct', label: '%' },
        { scale: 'calls', label: 'calls' },
      ],
      scales: { pct: { auto: false, range: [0, 100] }, state: { auto: false, range: [0, 2] } },
      data: [series.timestamps, rate, series.breaker, series.calls],
    })}
    <div class="chart" id="${id}-latency" role="img" aria-label="${series.connector}: p50 and p99 latency over time"></div>
    ${chartIsland(`${id}-latency`, {
      title: 'Latency of PSP calls (ms)',
      series: [
        { label: 'p50', color: '#0969da', scale: 'ms', unit: ' ms' },
        { label: 'p99', color: '#9a6700', scale: 'ms', unit: ' ms' },
      ],
      axes: [{ scale: 'ms', label: 'ms' }],
      data: [series.timestamps, series.p50, series.p99],
    })}
  </section>`;
}

export function registerConnectorPages(
  app: FastifyInstance,
  context: RouteContext,
  view: DashboardView,
): void {
  registerSection('connectors');
  const health = context.connectorHealth;

  app.get('/connectors', { schema: { hide: true } }, async (request, reply) => {
    requirePermission(request, 'view');
    const query = request.query as Record<string, unknown>;
    const rangeName = (query.range ?? '1h') as RangeName;
    if (typeof rangeName !== 'string' || !Object.hasOwn(ranges, rangeName))
      throw new DashboardError(400, `range: one of ${Object.keys(ranges).join(', ')}.`);
    const range = ranges[rangeName];
    const connector = query.connector === '' ? undefined : query.connector;
    if (
      connector !== undefined &&
      (typeof connector !== 'string' || !connectorPattern.test(connector))
    )
      throw new DashboardError(400, 'connector: a connector name (stripe, adyen …).');
    const summaries = await health.current();
    if (connector !== undefined && !summaries.some((summary) => summary.connector === connector))
      throw new DashboardError(404, `No connector ${connector}.`);
    const found = await health.recent({
      ...(connector === undefined ? {} : { connector }),
      rangeSeconds: range.seconds,
      bucketSeconds: range.bucketSeconds,
    });
    const link = (name: RangeName) =>
      `${dashboardPrefix}/connectors?range=${name}${connector === undefined ? '' : `&connector=${encodeURIComponent(connector)}`}`;
    return sendPage(view, request, reply, {
      title: 'Connectors',
      section: 'connectors',
      charts: true,
      body: html`<h1>Connectors</h1>
<p>Success: the PSP answered (approved or declined). Failure: a timeout, a network or server error, or an answer that does not match the request. Refused: not sent, the breaker was open or too many calls were in flight.</p>
<div class="table-scroll">
<table class="list">
  <caption>The last 15 minutes, every Payrail process together</caption>
  <thead><tr><th scope="col">Connector</th><th scope="col">Breaker now</th><th scope="col" class="amount">Success rate</th><th scope="col" class="amount">p50</th><th scope="col" class="amount">p99</th><th scope="col" class="amount">Calls</th><th scope="col" class="amount">Refused</th></tr></thead>
  <tbody>
  ${summaries.map((summary) => {
    const badge = breakerBadge[summary.breaker];
    return html`<tr data-connector="${summary.connector}">
    <td><a href="${dashboardPrefix}/connectors?range=${rangeName}&amp;connector=${encodeURIComponent(summary.connector)}">${summary.connector}</a></td>
    <td><span class="status ${badge.tone}">${badge.label}</span></td>
    <td class="amount">${percent(summary.successRate)}</td>
    <td class="amount">${milliseconds(summary.p50)}</td>
    <td class="amount">${milliseconds(summary.p99)}</td>
    <td class="amount">${summary.calls}</td>
    <td class="amount">${summary.rejected}</td>
  </tr>`;
  })}
  </tbody>
</table>
</div>
<nav class="pager" aria-label="Time range">
  ${(Object.keys(ranges) as RangeName[]).map((name) =>
    name === rangeName
      ? html`<span aria-current="true">${ranges[name].label}</span>`
      : html`<a href="${link(name)}">${ranges[name].label}</a>`,
  )}
  ${connector !== undefined && html`<a href="${dashboardPrefix}/connectors?range=${rangeName}">Every connector</a>`}
</nav>
${found.length === 0 ? html`<p>No PSP call was recorded in this range.</p>` : found.map(charts)}`,
    });
  });
}
