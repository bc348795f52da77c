// Waiting for what background work makes true (a webhook processed, an event published): polled
// with a bound, so a test waits for the signal itself and never for a fixed sleep.
export type WaitOptions = { readonly timeoutMs?: number; readonly intervalMs?: number };

/** Polls `probe` until it gives a value, and returns it; throws after `timeoutMs` (15 s). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}

/** Polls `check` until it holds; throws after `timeoutMs` (15 s). */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  options: WaitOptions = {},
): Promise<void> {
  await waitFor(what, async () => ((await check()) ? true : undefined), options);
}
