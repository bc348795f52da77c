// Process entry of the PSP simulator (`npm run sim`). Configuration from the environment:
// SIM_PORT (default 8090; 0 picks a free port), SIM_HOST (default 127.0.0.1),
// SIM_TIMEOUT_DELAY_MS (default 30000), SIM_MAX_PAYMENTS (default 1000000).
// Prints one line with the actual URL, then serves until SIGTERM or SIGINT.
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TIMEOUT_DELAY_MS, startSimulator } from './server.ts';
import { DEFAULT_LIMITS } from './store.ts';

function readInteger(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) {
    console.error(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const port = readInteger('SIM_PORT', DEFAULT_PORT, 0, 65535);
const timeoutDelayMs = readInteger('SIM_TIMEOUT_DELAY_MS', DEFAULT_TIMEOUT_DELAY_MS, 0, 600_000);
const maxPayments = readInteger('SIM_MAX_PAYMENTS', DEFAULT_LIMITS.maxPayments, 1, 10_000_000);
const host =
  process.env.SIM_HOST === undefined || process.env.SIM_HOST === ''
    ? DEFAULT_HOST
    : process.env.SIM_HOST;

// Handlers go in before the URL is printed: whoever reads the line may signal at once.
let stopping = false;
const running: { close?: () => Promise<void> } = {};
function stop(signal: string): void {
  if (stopping) return;
  stopping = true;
  (running.close ?? (() => Promise.resolve()))().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`simulator: error while stopping on ${signal}:`, error);
      process.exit(1);
    },
  );
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

const simulator = await startSimulator({
  port,
  host,
  timeoutDelayMs,
  limits: { maxPayments, maxRefunds: maxPayments, maxIdempotencyRecords: 3 * maxPayments },
}).catch((error: unknown) => {
  console.error(
    `simulator: cannot listen on ${host}:${port}: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exit(1);
});
running.close = simulator.close;
if (stopping) process.exit(0);
console.log(`PSP simulator listening on ${simulator.url}`);
