// The settlement report parsers on fixture reports, and on malformed ones: every fault is a
// ReportFormatError naming its line and field.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { adyenSettlementPages, parseAdyenSettlementCsv } from './adyen.ts';
import { CsvRecords, CsvSyntaxError } from './csv-records.ts';
import { parseRazorpayRecon } from './razorpay.ts';
import { parseStripePage } from './stripe.ts';
import { ReportFormatError } from './types.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const text = (name: string) => fs.readFileSync(path.join(fixtures, name), 'utf8');
const json = (name: string) => JSON.parse(text(name)) as Record<string, unknown>;

function formatError(line: number | undefined, field: string | undefined, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(
      error instanceof ReportFormatError,
      `expected ReportFormatError, got ${String(error)}`,
    );
    assert.equal(error.line, line);
    assert.equal(error.field, field);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return true;
  };
}

describe('stripe balance transactions', () => {
  test('a reference holding a control character (U+0000 above all) is refused, naming it', () => {
    const page = json('stripe_page_1.json');
    const data = page.data as Record<string, unknown>[];
    for (const bad of ['pi_sim\u0000A', 'pi_sim\nA', 'pi_sim\u007fA']) {
      const tampered = { ...page, data: [{ ...data[0], source: bad }, ...data.slice(1)] };
      assert.throws(() => parseStripePage(tampered, 'po_sim_1', 1), formatError(1, 'source'));
    }
  });

  test('two pages: charges and refunds with exact integers, the payout line skipped', () => {
    const first = parseStripePage(json('stripe_page_1.json'), 'po_sim_1', 1);
    assert.equal(first.hasMore, true);
    assert.equal(first.lastId, 'txn_sim_0002');
    assert.deepEqual(first.items, [
      {
        line: 1,
        pspReference: 'pi_sim_A',
        type: 'charge',
        currency: 'usd',
        amount: 10000n,
        fee: 320n,
        net: 9680n,
      },
      {
        line: 2,
        pspReference: 're_sim_B',
        type: 'refund',
        currency: 'usd',
        amount: -2500n,
        fee: 0n,
        net: -2500n,
      },
    ]);
    const second = parseStripePage(json('stripe_page_2.json'), 'po_sim_1', 3);
    assert.equal(second.hasMore, false);
    assert.deepEqual(
      second.items.map((item) => [item.line, item.pspReference, item.fee]),
      [[3, 'pi_sim_C', 88n]],
    );
  });

  test('malformed entries name their line and field', () => {
    const page = json('stripe_page_1.json');
    const entry = (changes: Record<string, unknown>) => ({
      ...page,
      data: [(page.data as object[])[0], { ...(page.data as object[])[1], ...changes }],
    });
    assert.throws(
      () => parseStripePage(entry({ amount: -25.5 }), 'po_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () => parseStripePage(entry({ amount: '-2500' }), 'po_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () => parseStripePage(entry({ net: -2400 }), 'po_sim_1', 1),
      formatError(2, 'net'),
    );
    assert.throws(
      () => parseStripePage(entry({ amount: 2500, net: 2500 }), 'po_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () => parseStripePage(entry({ payout: 'po_other' }), 'po_sim_1', 1),
      formatError(2, 'payout'),
    );
    assert.throws(
      () => parseStripePage(entry({ type: 'adjustment' }), 'po_sim_1', 1),
      formatError(2, 'type'),
    );
    assert.throws(
      () => parseStripePage(entry({ source: '' }), 'po_sim_1', 1),
      formatError(2, 'source'),
    );
    assert.throws(
      () => parseStripePage(entry({ currency: 'xxq' }), 'po_sim_1', 1),
      formatError(2, 'currency'),
    );
    assert.throws(
      () => parseStripePage(entry({ amount: 2 ** 60 }), 'po_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () =>
        parseStripePage(entry({ fee: 5, net: -2505, fee_details: [{ amount: 4 }] }), 'po_sim_1', 1),
      formatError(2, 'fee_details'),
    );
    assert.throws(
      () => parseStripePage({ object: 'list', data: {} }, 'po_sim_1', 1),
      formatError(0, 'data'),
    );
    assert.throws(() => parseStripePage('nope', 'po_sim_1', 1), ReportFormatError);
  });
});

describe('adyen settlement detail CSV', () => {
  test('decimal strings become exact minor units; the payout line is skipped', () => {
    const items = parseAdyenSettlementCsv(text('adyen_batch_42.csv'), '42');
    assert.deepEqual(items, [
      {
        line: 2,
        pspReference: '8815000000000001',
        type: 'charge',
        currency: 'eur',
        amount: 10000n,
        fee: 195n,
        net: 9805n,
      },
      {
        line: 3,
        pspReference: '8815000000000002',
        type: 'refund',
        currency: 'eur',
        amount: -2550n,
        fee: 12n,
        net: -2562n,
      },
    ]);
  });

  test('malformed lines name their line and column', () => {
    const original = text('adyen_batch_42.csv');
    const replaceInLine2 = (from: string, to: string) => {
      const lines = original.split('\r\n');
      lines[1] = (lines[1] as string).replace(from, to);
      return lines.join('\r\n');
    };
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',100.00,', ',100.001,'), '42'),
      formatError(2, 'Gross Credit (GC)', /at most 2 decimal places/),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',100.00,', ',1e2,'), '42'),
      formatError(2, 'Gross Credit (GC)'),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',98.05,', ',98.06,'), '42'),
      formatError(2, 'Net Credit (NC)'),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',Settled,', ',Chargeback,'), '42'),
      formatError(2, 'Type'),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',EUR,,100.00', ',EUR,5.00,100.00'), '42'),
      formatError(2, 'Gross Debit (GC)'),
    );
    assert.throws(() => parseAdyenSettlementCsv(original, '43'), formatError(2, 'Batch Number'));
    assert.throws(
      () => parseAdyenSettlementCsv(original.replace('Scheme Fees (NC)', 'Scheme'), '42'),
      formatError(1, 'Scheme Fees (NC)'),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',visa,42', ',visa,42,extra'), '42'),
      formatError(2, undefined, /not valid CSV/),
    );
    assert.throws(() => parseAdyenSettlementCsv('', '42'), formatError(1, undefined));
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',att_A,', ',att"A,'), '42'),
      formatError(2, undefined, /not valid CSV \(a quote inside an unquoted field\)/),
    );
    assert.throws(
      () => parseAdyenSettlementCsv(replaceInLine2(',att_A,', ',"att_A,'), '42'),
      formatError(2, undefined, /not valid CSV \(a quoted field is not closed\)/),
    );
  });

  test('streamed: the same items however the bytes are cut (UTF-8 and quotes across chunks)', async () => {
    const original = text('adyen_batch_42.csv');
    const lines = original.split('\r\n');
    lines[1] = (lines[1] as string).replace(',att_A,', ',"att é€, ""A""\nnext line",');
    const report = lines.join('\r\n');
    const expected = parseAdyenSettlementCsv(report, '42');
    assert.deepEqual(
      expected.map((item) => item.line),
      [2, 4],
    );
    const bytes = Buffer.from(report);
    const read = async (chunks: Uint8Array[]) => {
      async function* body() {
        yield* chunks;
      }
      const items = [];
      for await (const page of adyenSettlementPages(body(), '42', 'adyen', 1)) {
        assert.equal(page.length, 1);
        items.push(...page);
      }
      return items;
    };
    for (let cut = 0; cut <= bytes.length; cut++)
      assert.deepEqual(
        await read([bytes.subarray(0, cut), bytes.subarray(cut)]),
        expected,
        `cut at ${cut}`,
      );
    const singleBytes = [...bytes].map((byte) => Uint8Array.of(byte));
    assert.deepEqual(await read(singleBytes), expected);
    // A quote never closed: refused once the record is over 64 KiB, before the rest is held.
    const open = (lines[0] as string) + '\r\n"' + 'x'.repeat(1024);
    const endless = [
      Buffer.from(open),
      ...Array.from({ length: 100 }, () => Buffer.alloc(1024, 'y')),
    ];
    await assert.rejects(read(endless), formatError(2, undefined, /longer than 65536/));
  });
});

describe('razorpay recon', () => {
  test('payments and refunds; the fee includes the tax', () => {
    const items = parseRazorpayRecon(json('razorpay_recon.json'), 'setl_sim_1', 1);
    assert.deepEqual(items, [
      {
        line: 1,
        pspReference: 'pay_sim_A',
        type: 'charge',
        currency: 'inr',
        amount: 50000n,
        fee: 1180n,
        net: 48820n,
      },
      {
        line: 2,
        pspReference: 'rfnd_sim_B',
        type: 'refund',
        currency: 'inr',
        amount: -10000n,
        fee: 0n,
        net: -10000n,
      },
    ]);
  });

  test('malformed items name their line and field', () => {
    const body = json('razorpay_recon.json');
    const withItem = (changes: Record<string, unknown>) => ({
      ...body,
      items: [(body.items as object[])[0], { ...(body.items as object[])[1], ...changes }],
    });
    assert.throws(
      () => parseRazorpayRecon(withItem({ amount: 100.5 }), 'setl_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () => parseRazorpayRecon(withItem({ amount: 0 }), 'setl_sim_1', 1),
      formatError(2, 'amount'),
    );
    assert.throws(
      () => parseRazorpayRecon(withItem({ tax: 5 }), 'setl_sim_1', 1),
      formatError(2, 'tax'),
    );
    assert.throws(
      () => parseRazorpayRecon(withItem({ type: 'adjustment' }), 'setl_sim_1', 1),
      formatError(2, 'type'),
    );
    assert.throws(
      () => parseRazorpayRecon(withItem({ settlement_id: 'setl_x' }), 'setl_sim_1', 1),
      formatError(2, 'settlement_id'),
    );
    assert.throws(
      () => parseRazorpayRecon(withItem({ entity_id: 7 }), 'setl_sim_1', 1),
      formatError(2, 'entity_id'),
    );
    assert.throws(
      () => parseRazorpayRecon({ ...body, count: 3 }, 'setl_sim_1', 1),
      formatError(0, 'count'),
    );
  });
});

describe('csv records (papaparse, held strict)', () => {
  const tricky =
    '\uFEFFa,b,c\r\n' +
    'plain,"with, comma","with ""quotes"""\r\n' +
    '\r\n' +
    '"two\nlines",,last\n' +
    'p,q,"cr\r"\r\n' +
    '\n' +
    'x,"",z';

  const expected = [
    { cells: ['a', 'b', 'c'], line: 1 },
    { cells: ['plain', 'with, comma', 'with "quotes"'], line: 2 },
    { cells: ['two\nlines', '', 'last'], line: 4 },
    { cells: ['p', 'q', 'cr\r'], line: 6 },
    { cells: ['x', '', 'z'], line: 8 },
  ];

  /** The records of `text` pushed in pieces: `cut` characters, then `step` at a time. */
  const inChunks = (text: string, cut: number, step: number, recordLengthMax = 1000) => {
    const reader = new CsvRecords({ recordLengthMax });
    const records = [...reader.push(text.slice(0, cut), false)];
    for (let at = cut; at < text.length; at += step)
      records.push(...reader.push(text.slice(at, at + step), false));
    records.push(...reader.push('', true));
    return records;
  };

  test('quoted fields, escaped quotes, line breaks in quotes, CRLF, a BOM, empty lines', () => {
    assert.deepEqual(new CsvRecords({ recordLengthMax: 1000 }).push(tricky, true), expected);
    assert.deepEqual(
      new CsvRecords({ recordLengthMax: 1000 }).push(tricky + '\r\n', true),
      expected,
    );
  });

  test('lines without a quote (read a chunk at a time): lines, CRLF, empty lines', () => {
    const plain = 'a,b\r\n\r\nc,d\n\ne,f\r\n';
    const records = [
      { cells: ['a', 'b'], line: 1 },
      { cells: ['c', 'd'], line: 3 },
      { cells: ['e', 'f'], line: 5 },
    ];
    for (let cut = 0; cut <= plain.length; cut++)
      assert.deepEqual(inChunks(plain, cut, 2), records, `cut at ${cut}`);
  });

  test('the same records however the text is cut into chunks', () => {
    for (let cut = 0; cut <= tricky.length; cut++)
      for (const step of [1, 3, 1000])
        assert.deepEqual(inChunks(tricky, cut, step), expected, `cut at ${cut}, then ${step}`);
  });

  test('anything not well-formed is refused with its line, however the text is cut', () => {
    const refused = (text: string, line: number, pattern: RegExp) => {
      for (let cut = 0; cut <= text.length; cut++)
        for (const step of [1, text.length])
          assert.throws(
            () => inChunks(text, cut, step, 20),
            (error: unknown) => {
              assert.ok(error instanceof CsvSyntaxError, String(error));
              assert.equal(error.line, line, `${JSON.stringify(text)} cut at ${cut}`);
              assert.match(error.message, pattern);
              return true;
            },
          );
    };
    // papaparse's MissingQuotes and InvalidQuotes.
    refused('a,b\nx,"open\n', 2, /not closed/);
    refused('a,b\n"x"y,z\n', 2, /after a closing quote/);
    refused('a,b\n"two\nlines",z\n"x"y,z\n', 4, /after a closing quote/);
    // What papaparse lets through.
    refused('a,b\nx,y"z\n', 2, /quote inside an unquoted field/);
    refused('a,b\n"q",r\nx,y"z\n', 3, /quote inside an unquoted field/);
    refused('a,b\n"x" ,z\n', 2, /after a field/);
    refused('a,b\nx,"z" \r\n', 2, /after a field/);
    refused('a,b\n' + 'x'.repeat(30) + '\n', 2, /longer than 20/);
    refused('a,b\n"' + 'x'.repeat(30) + '",y\n', 2, /longer than 20/);
    // Memory is bounded: a quote never closed is refused once the record is too long.
    refused('a,b\nx,"' + 'y\n'.repeat(20), 2, /longer than 20|not closed/);
  });

  test('a quote never closed is refused before the rest of the report is held', () => {
    const reader = new CsvRecords({ recordLengthMax: 100 });
    reader.push('a,b\nx,"open', false);
    assert.throws(
      () => {
        for (let chunk = 0; chunk < 10; chunk++) reader.push('y,z\n'.repeat(10), false);
      },
      (error: unknown) => error instanceof CsvSyntaxError && error.line === 2,
    );
  });
});
