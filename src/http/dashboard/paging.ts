// Keyset paging for the dashboard's lists: `?starting_after=<id>` (older) and
// `?ending_before=<id>` (newer), never an offset; the links keep every other filter of the URL.
import type { PageRequest } from '../../storage/pagination.ts';
import { html, type Html } from '../../web/html.ts';
import { DashboardError } from './errors.ts';

export const dashboardPageSize = 50;

const cursorPattern = /^[A-Za-z0-9_]{1,100}$/;

function cursor(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !cursorPattern.test(value))
    throw new DashboardError(400, `${name}: not an id.`);
  return value;
}

export function pageRequest(query: Record<string, unknown>): PageRequest {
  return {
    limit: dashboardPageSize,
    startingAfter: cursor(query, 'starting_after'),
    endingBefore: cursor(query, 'ending_before'),
  };
}

/** The URL of the same list with one cursor set and the other removed. */
function withCursor(url: string, name: 'starting_after' | 'ending_before', id: string): string {
  const parsed = new URL(url, 'http://dashboard.invalid');
  parsed.searchParams.delete('starting_after');
  parsed.searchParams.delete('ending_before');
  parsed.searchParams.set(name, id);
  return `${parsed.pathname}${parsed.search}`;
}

/**
 * Newer and older links. Going older (or on the first page) `hasMore` says whether older rows
 * exist; going newer it says whether newer rows exist, and older ones always do.
 */
export function pager(
  url: string,
  page: PageRequest,
  ids: readonly string[],
  hasMore: boolean,
): Html {
  const first = ids[0];
  const last = ids.at(-1);
  const backwards = page.endingBefore !== undefined;
  const newer =
    first !== undefined && (backwards ? hasMore : page.startingAfter !== undefined)
      ? withCursor(url, 'ending_before', first)
      : undefined;
  const older =
    last !== undefined && (backwards || hasMore)
      ? withCursor(url, 'starting_after', last)
      : undefined;
  return html`<nav class="pager" aria-label="Pages">
    ${newer === undefined ? html`<span aria-disabled="true">← Newer</span>` : html`<a rel="prev" href="${newer}">← Newer</a>`}
    ${older === undefined ? html`<span aria-disabled="true">Older →</span>` : html`<a rel="next" href="${older}">Older →</a>`}
  </nav>`;
}
