// Payrail dashboard: charts from the JSON islands a page carries (uPlot, loaded only on chart
// pages). No inline script anywhere: the Content-Security-Policy allows this file and uPlot only.
'use strict';

function drawCharts(root) {
  if (typeof window.uPlot !== 'function') return;
  for (const island of root.querySelectorAll('script[type="application/json"][data-chart]')) {
    if (island.dataset.drawn === 'true') continue;
    island.dataset.drawn = 'true';
    const spec = JSON.parse(island.textContent || '{}');
    const holder = document.getElementById(island.dataset.chart);
    if (holder === null) continue;
    const width = Math.max(280, Math.min(holder.clientWidth || 800, 1200));
    const series = [{}].concat(
      spec.series.map((line) => ({
        label: line.label,
        stroke: line.color,
        width: 2,
        scale: line.scale || 'y',
        value: (_u, value) =>
          value === null || value === undefined ? '—' : value + (line.unit || ''),
      })),
    );
    const axes = [{}].concat(
      (spec.axes || [{ scale: 'y' }]).map((axis, index) => ({
        scale: axis.scale,
        side: index === 0 ? 3 : 1,
        label: axis.label,
        grid: { show: index === 0 },
      })),
    );
    new window.uPlot(
      { title: spec.title, width, height: 220, series, axes, scales: spec.scales || {} },
      spec.data,
      holder,
    );
  }
}

document.addEventListener('DOMContentLoaded', () => drawCharts(document));
// htmx swaps new content in: draw what it brought.
document.addEventListener('htmx:after:swap', () => drawCharts(document));
document.addEventListener('htmx:afterSwap', () => drawCharts(document));
