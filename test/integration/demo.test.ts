// `npm run demo` and `npm start` as a developer meets them: each runs as its own process, the way
// the npm scripts run it, and the test reads what it prints. Neither writes inside the repository:
// the demo keeps its data in memory, `start` is pointed at a temporary data directory.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, describe, test } from 'node:test';
import { repositoryRoot, startChild, type RunningChild } from '../../src/child-process.ts';

/** Where `start` would keep its data if nothing pointed it elsewhere (config.ts). */
const defaultDataDirectory = path.join(repositoryRoot, '.payrail');

describe('npm run demo', () => {
  let demo: RunningChild | undefined;
  after(async () => demo?.stop());

  test(
    'tells the whole tour, ends with the balances and a ledger verify ok, exits 0',
    { timeout: 60_000 },
    async () => {
      const hadDefaultData = fs.existsSync(defaultDataDirectory);
      demo = await startChild({
        script: 'src/demo.ts',
        ready: /Payrail demo — server (http:\/\/127\.0\.0\.1:\d+)/,
        timeoutMs: 30_000,
        outputCharsMax: Number.POSITIVE_INFINITY,
      });
      const code = await demo.exited;
      const output = demo.output.join('');
      assert.equal(code, 0, output);
      assert.match(output, /data in memory/);
      // Each scene's outcome, in order.
      const scenes = [
        /pm_\w+: visa •••• 4242/,
        /pi_\w+ → succeeded, received 20\.00 USD/,
        /pi_\w+ → requires_capture, capturable 50\.00 USD\n\s+captured → succeeded, received 30\.00 USD/,
        /re_\w+: 5\.00 USD → succeeded\n\s+re_\w+: 10\.00 USD → succeeded\n\s+another 10\.00 → 400 amount_too_large/,
        /→ 402 card_declined \(insufficient_funds\)/,
        /pi_\w+ → processing \(attempt unknown\)\n\s+after sync → succeeded, received 42\.00 USD/,
        /pi_\w+ → succeeded, 999\.00 INR\n\s+partial refund → 400 capability_not_supported/,
        // USD: 20.00 − 0.88 fee − 15.00 refunded, 30.00 − 1.17, 42.00 − 1.52 = 73.43; INR: 999.00 − 2.9 % = 970.03.
        /pending {3}970\.03 INR\n\s+pending {3}73\.43 USD\n\s+available 0\.00 INR\n\s+available 0\.00 USD/,
        /ledger verify: ok \(\d+ transactions, \d+ entries/,
        /the simulator's own record: 4 × authorize succeeded, 4 × capture succeeded, 2 × refund succeeded, 1 × authorize declined/,
        // Money out, five days later: cleared, PSP fees (the simulator's own schedule), funded, paid.
        /ba_\w+: •••• 6789/,
        /batch paytm inr: 1 of 1 items accepted, 999\.00 INR, PSP fee \d+\.\d\d INR → funded\n\s+batch stripe usd: 5 of 5 items accepted, 77\.00 USD, PSP fee \d+\.\d\d USD → funded/,
        /available 970\.03 INR\n\s+available 0\.00 USD\n\s+payout po_\w+: 73\.43 USD → paid \(bank trace \d+\)/,
        /the bank's own record: po_\w+ executed 1×, 73\.43 USD paid/,
        // Reconciliation: everything matched; the fees the simulated PSPs changed are exceptions.
        /run rcr_\w+: 9 expected, 9 external lines; matched 9 exact.*\(match rate 100\.0 %\)/,
        /exception rex_\w+: fee_variance \w+ \{"expected_fee":"\d+","reported_fee":"\d+"\}/,
        /resolved as psp_error by the operator/,
        /money-out verify: ok/,
      ];
      let rest = output;
      for (const scene of scenes) {
        const match = scene.exec(rest);
        assert.ok(match !== null, `${scene} not found (in order) in:\n${output}`);
        rest = rest.slice(match.index + match[0].length);
      }
      assert.ok(!output.includes('4242424242424242'), 'the card number is never printed');
      if (!hadDefaultData)
        assert.ok(
          !fs.existsSync(defaultDataDirectory),
          'the demo wrote no data directory into the repository',
        );
    },
  );
});

describe('npm start', () => {
  let started: RunningChild | undefined;
  let dataDirectory: string | undefined;
  after(async () => {
    await started?.stop();
    if (dataDirectory !== undefined) fs.rmSync(dataDirectory, { recursive: true, force: true });
  });

  test(
    "the banner's curl line makes a payment that succeeds; the data stays in the given directory",
    { timeout: 60_000 },
    async () => {
      dataDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'payrail-start-'));
      // Ports 0: a free port for the server and for the simulator `start` brings. Empty values are
      // unset for config.ts, so a developer's DATABASE_URL or NATS_URL cannot redirect the run.
      started = await startChild({
        script: 'src/cli.ts',
        args: ['start'],
        env: {
          PORT: '0',
          SIM_PORT: '0',
          PAYRAIL_DATA_DIR: dataDirectory,
          DATABASE_URL: '',
          NATS_URL: '',
          PAYRAIL_ADMIN_KEY: '',
          PAYRAIL_VAULT_MASTER_KEY: '',
        },
        ready: /Payrail is listening on (http:\/\/127\.0\.0\.1:\d+)/,
        timeoutMs: 30_000,
        outputCharsMax: Number.POSITIVE_INFINITY,
      });
      // The banner is one write, but may arrive in more than one chunk.
      for (
        let tries = 0;
        tries < 100 && !started.output.join('').includes('Create another merchant');
        tries++
      )
        await sleep(50);
      const banner = started.output.join('');
      assert.ok(banner.includes(`data:      embedded PGlite in ${dataDirectory}`), banner);

      // `curl URL -u KEY: -d a=1 -d b=2`: a form-encoded POST, the key as the user of HTTP Basic auth.
      const payment = /curl -s (\S+) -u (sk_\w+): \\\n\s+((?:-d \S+ ?)+)\n/.exec(banner);
      assert.ok(
        payment?.[1] !== undefined && payment[2] !== undefined && payment[3] !== undefined,
        `no payment curl line in:\n${banner}`,
      );
      assert.ok(
        payment[1].startsWith(`${started.url}/`),
        'the curl line targets the server that started',
      );
      const basic = (secretKey: string) =>
        `Basic ${Buffer.from(`${secretKey}:`).toString('base64')}`;
      const form = [...payment[3].matchAll(/-d (\S+)/g)].map((data) => data[1]).join('&');
      const paid = await fetch(payment[1], {
        method: 'POST',
        headers: {
          authorization: basic(payment[2]),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form,
      });
      const intent = (await paid.json()) as Record<string, unknown>;
      assert.equal(paid.status, 200, JSON.stringify(intent));
      assert.deepEqual(
        [intent.status, intent.amount, intent.amount_received, intent.currency],
        ['succeeded', 2000, 2000, 'usd'],
      );

      const balanceLine = /Then: curl -s (\S+) -u (sk_\w+):\n/.exec(banner);
      assert.ok(
        balanceLine?.[1] !== undefined && balanceLine[2] !== undefined,
        `no balance curl line in:\n${banner}`,
      );
      const balance = (await (
        await fetch(balanceLine[1], { headers: { authorization: basic(balanceLine[2]) } })
      ).json()) as { pending: { amount: number; currency: string }[] };
      assert.deepEqual(
        balance.pending,
        [{ amount: 2000 - 88, currency: 'usd' }],
        'the payment less its fee (2.9 % + 0.30)',
      );

      await started.stop();
      assert.equal(await started.exited, 0, 'SIGTERM shuts down cleanly');
      assert.ok(
        fs.readdirSync(dataDirectory).includes('PG_VERSION'),
        'the database lives in the given directory',
      );
    },
  );
});
