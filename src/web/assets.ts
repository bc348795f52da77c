// The static files of the dashboard and the hosted checkout page: Payrail's own (web/) and the
// libraries vendored from their npm packages (htmx, uPlot), read once at start, served from memory
// under a content-hash URL with a year's immutable caching and gzip, from the same origin (the
// Content-Security-Policy allows scripts and styles from 'self' only).
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);
const webFile = (name: string): string => new URL(`../../web/${name}`, import.meta.url).pathname;

const javascript = 'text/javascript; charset=utf-8';
const css = 'text/css; charset=utf-8';

/** Every asset by its name in templates: where it comes from and what it is. */
const sources = {
  'htmx.js': { file: () => require.resolve('htmx.org/dist/htmx.min.js'), type: javascript },
  'uplot.js': { file: () => require.resolve('uplot/dist/uPlot.iife.min.js'), type: javascript },
  'uplot.css': { file: () => require.resolve('uplot/dist/uPlot.min.css'), type: css },
  'dashboard.js': { file: () => webFile('dashboard.js'), type: javascript },
  'dashboard.css': { file: () => webFile('dashboard.css'), type: css },
  'checkout.css': { file: () => webFile('checkout.css'), type: css },
} as const;

export type AssetName = keyof typeof sources;

export type Asset = {
  readonly name: AssetName;
  readonly type: string;
  /** `/assets/<hash>/<name>`: a new content is a new URL, so the old one can be cached forever. */
  readonly url: string;
  readonly body: Buffer;
  readonly gzipped: Buffer;
};

export const assetsPrefix = '/assets/';

export class Assets {
  readonly #byName = new Map<AssetName, Asset>();
  readonly #byUrl = new Map<string, Asset>();

  constructor() {
    for (const [name, source] of Object.entries(sources) as [
      AssetName,
      { file: () => string; type: string },
    ][]) {
      const body = readFileSync(source.file());
      const hash = crypto.createHash('sha256').update(body).digest('hex').slice(0, 12);
      const asset = {
        name,
        type: source.type,
        url: `${assetsPrefix}${hash}/${name}`,
        body,
        gzipped: gzipSync(body, { level: 9 }),
      };
      this.#byName.set(name, asset);
      this.#byUrl.set(asset.url, asset);
    }
  }

  url(name: AssetName): string {
    const asset = this.#byName.get(name);
    if (asset === undefined) throw new Error(`no asset ${name}`);
    return asset.url;
  }

  byUrl(url: string): Asset | undefined {
    return this.#byUrl.get(url);
  }

  /** All the JavaScript a page may load, gzipped, in bytes (the budget: under 100 KB). */
  javascriptGzipBytes(): number {
    let total = 0;
    for (const asset of this.#byName.values())
      if (asset.type === javascript) total += asset.gzipped.length;
    return total;
  }
}
