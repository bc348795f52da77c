// Server-rendered HTML for the dashboard and the hosted checkout page. Every interpolated value is
// escaped unless it is already Html (made by this tag or `raw`): a page can only carry markup that
// Payrail's own templates wrote, never a merchant's or a card holder's text as markup.

/** Markup that is already safe to place in a page. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

const escapes: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => escapes[character] ?? character);
}

function render(value: unknown): string {
  if (value instanceof Html) return value.value;
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

/**
 * `html\`<td>${text}</td>\``: strings, numbers and bigints are escaped; Html is kept; arrays are
 * joined; undefined, null and false render nothing (for `${condition && html\`…\`}`).
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  for (let index = 0; index < values.length; index += 1)
    out += render(values[index]) + (strings[index + 1] ?? '');
  return new Html(out);
}

/** Markup from a trusted source (an asset's tag, a JSON island built by JSON.stringify + escape). */
export function raw(markup: string): Html {
  return new Html(markup);
}

/** Data for a page's script, in a `<script type="application/json">` island that CSP allows. */
export function jsonIsland(id: string, data: unknown): Html {
  // `<` escaped so that no string in the data can close the script element.
  const json = JSON.stringify(data, (_key, value: unknown) =>
    typeof value === 'bigint' ? Number(value) : value,
  ).replaceAll('<', '\\u003c');
  return raw(`<script type="application/json" id="${escapeHtml(id)}">${json}</script>`);
}
