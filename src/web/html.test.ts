import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, html, jsonIsland, raw } from './html.ts';

test('interpolated text is escaped, markup made by the tag is kept', () => {
  const name = `<script>alert("x")</script> & 'y'`;
  const cell = html`<td title="${name}">${name}</td>`;
  assert.equal(
    cell.value,
    '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;">' +
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;</td>',
  );
  assert.equal(html`<tr>${cell}</tr>`.value, `<tr>${cell.value}</tr>`);
});

test('arrays join, and undefined, null and false render nothing', () => {
  const rows = [1, 2n, 'a<b'].map((value) => html`<li>${value}</li>`);
  assert.equal(html`<ul>${rows}</ul>`.value, '<ul><li>1</li><li>2</li><li>a&lt;b</li></ul>');
  assert.equal(html`${undefined}${null}${false}${0}`.value, '0');
  assert.equal(html`${raw('<b>')}`.value, '<b>');
  assert.equal(escapeHtml('plain'), 'plain');
});

test('a JSON island cannot close its script element', () => {
  const island = jsonIsland('data', { text: '</script><script>alert(1)</script>', amount: 5n });
  assert.ok(!island.value.slice(0, -'</script>'.length).includes('</script>'));
  const json = island.value.replace(/^<script[^>]*>/, '').replace(/<\/script>$/, '');
  assert.deepEqual(JSON.parse(json), {
    text: '</script><script>alert(1)</script>',
    amount: 5,
  });
});
