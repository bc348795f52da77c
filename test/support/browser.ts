// Real Chromium for the browser tests: Debian's /usr/bin/chromium driven by playwright-core
// (never a browser downloaded by a test tool), headless, with every background connection off so
// it talks to the loopback server only. Each page records console errors and Content-Security-
// Policy violations, which a test asserts are none; screenshots go to test-output/screenshots.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const chromiumPath = process.env.PAYRAIL_CHROMIUM ?? '/usr/bin/chromium';
export const screenshotDirectory = path.resolve('test-output', 'screenshots');

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-default-apps',
      '--disable-extensions',
    ],
  });
}

export type WatchedPage = {
  readonly page: Page;
  /** Console errors and CSP violations seen so far. */
  readonly problems: string[];
};

export async function watchedPage(
  context: BrowserContext,
  viewport = { width: 1280, height: 900 },
): Promise<WatchedPage> {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // Run in the page (a string: this file has no DOM types).
  await page.addInitScript({
    content: `document.addEventListener('securitypolicyviolation', (event) => {
      console.error('CSP violation: ' + event.violatedDirective + ' ' + event.blockedURI);
    });`,
  });
  return { page, problems };
}

/** A full-page screenshot into test-output/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDirectory, { recursive: true });
  const file = path.join(screenshotDirectory, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
