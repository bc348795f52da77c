// Acquirer acknowledgements (RECON-SPEC.md, source acquirer_ack): each line of an uploaded answer
// (`<batch id>:<item id>`, accepted | rejected) against Payrail's own view of that item in that
// batch. The pipeline keeps no answer file (it stages only the rejected lines and deletes them at
// acknowledgement), so only batches whose answer was ingested as a file are judged, once Payrail
// has acknowledged them:
//   ack:<batch>:<item>  ack_accepted  an item still 'batched' in the acknowledged batch
//                       ack_rejected  an item the batch rejected for good ('exception' in it)
//                       ack_rejected  a rejected line of an item Payrail retried (it left the
//                                     batch): Payrail's rejection count must cover it
// A line of the same verdict matches (exact pass); what differs is one exception (exceptions.ts
// steps): Payrail holds it accepted and the acquirer has no line or rejected it → missing; the
// acquirer accepted what Payrail does not hold accepted there (rejected, another batch, an item
// or batch Payrail never had) → unexpected, or duplicate when another answer accepted the item
// too. An acknowledgement moves no money by itself (its money is judged at the PSP line and the
// bank credit), so these exceptions carry no amount.
import { acknowledgedStatusesSql } from '../../settlement/tables.ts';

/** The batch id of an acquirer_ack record: its row key less `:<item id>`. */
const batchOf = (r: string) =>
  `left(${r}.row_key, length(${r}.row_key) - length(${r}.our_reference) - 1)`;

const columns = `key, kind, connector, currency, amount, expected_fee, our_reference,
  psp_reference, batch_reference, trace_id, due_on, deadline_on, created_at`;

const clearingDay = `to_char((b.cutoff_at AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD')`;

// $1 now. Batches named by unmatched answer lines, acknowledged, not judged yet.
export const ackItemExpectations = `
  WITH answered AS MATERIALIZED (
    SELECT DISTINCT ${batchOf('r')} AS batch_id FROM recon_records r
     WHERE r.source = 'acquirer_ack' AND r.group_id IS NULL),
  batches AS MATERIALIZED (
    SELECT b.id, b.connector, b.settlement_reference, ${clearingDay} AS day
      FROM settlement_batches b JOIN answered a ON a.batch_id = b.id
     WHERE b.status IN ${acknowledgedStatusesSql}
       AND NOT EXISTS (SELECT 1 FROM recon_batch_progress p
                        WHERE p.batch_id = b.id AND p.acks_expected_at IS NOT NULL)),
  inserted AS (
    INSERT INTO recon_expectations (${columns})
    SELECT 'ack:' || b.id || ':' || i.id,
           CASE WHEN i.clearing_status = 'batched' THEN 'ack_accepted' ELSE 'ack_rejected' END,
           b.connector, i.currency, i.amount, NULL, i.id, i.psp_reference, b.settlement_reference,
           NULL, b.day, b.day, $1::timestamptz
      FROM batches b
      JOIN balance_transactions i ON i.batch_id = b.id
       AND i.clearing_status IN ('batched', 'exception', 'rejected')
    ON CONFLICT (key) DO NOTHING
    RETURNING 1),
  marked AS (
    INSERT INTO recon_batch_progress (batch_id, acks_expected_at)
    SELECT id, $1::timestamptz FROM batches
    ON CONFLICT (batch_id) DO UPDATE SET acks_expected_at = excluded.acks_expected_at)
  SELECT count(*)::int AS count FROM inserted`;

// $1 now. A retried item left its batch (batch_id cleared), so Payrail no longer says which
// batch rejected it: a rejected line of an acknowledged batch of the item's connector and
// currency is Payrail's view when the item was rejected at least that often (its rejection
// count bounds the lines taken, earliest batches first).
export const ackRetriedExpectations = `
  WITH lines AS MATERIALIZED (
    SELECT r.row_key, r.our_reference AS item_id, ${batchOf('r')} AS batch_id
      FROM recon_records r
     WHERE r.source = 'acquirer_ack' AND r.kind = 'rejected' AND r.group_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM recon_expectations e WHERE e.key = 'ack:' || r.row_key)),
  candidates AS MATERIALIZED (
    SELECT l.row_key, i.id AS item_id, i.currency, i.amount, i.psp_reference, i.rejections,
           b.connector, b.settlement_reference, ${clearingDay} AS day,
           row_number() OVER (PARTITION BY i.id ORDER BY b.cutoff_at, b.id) AS nth
      FROM lines l
      JOIN settlement_batches b ON b.id = l.batch_id AND b.status IN ${acknowledgedStatusesSql}
      JOIN balance_transactions i ON i.id = l.item_id
     WHERE i.rejections > 0 AND i.batch_id IS DISTINCT FROM b.id
       AND i.connector = b.connector AND i.currency = b.currency),
  known AS (
    SELECT e.our_reference, count(*) AS n FROM recon_expectations e
     WHERE e.kind = 'ack_rejected'
       AND e.our_reference IN (SELECT item_id FROM candidates)
     GROUP BY 1),
  inserted AS (
    INSERT INTO recon_expectations (${columns})
    SELECT 'ack:' || c.row_key, 'ack_rejected', c.connector, c.currency, c.amount, NULL,
           c.item_id, c.psp_reference, c.settlement_reference, NULL, c.day, c.day, $1::timestamptz
      FROM candidates c LEFT JOIN known k ON k.our_reference = c.item_id
     WHERE coalesce(k.n, 0) + c.nth <= c.rejections
    ON CONFLICT (key) DO NOTHING
    RETURNING 1)
  SELECT count(*)::int AS count FROM inserted`;

/** Exact pass candidates (passes.ts): a line and Payrail's view of the same verdict. */
export const ackCandidates = `
  SELECT e.key AS ek, r.row_key AS rk, 'acquirer_ack' AS src, 0::bigint AS preference,
         true AS allowed
    FROM recon_expectations e
    JOIN recon_records r ON r.source = 'acquirer_ack' AND r.group_id IS NULL
     AND r.row_key = substr(e.key, 5)
     AND r.kind = CASE e.kind WHEN 'ack_accepted' THEN 'accepted' ELSE 'rejected' END
   WHERE e.kind IN ('ack_accepted', 'ack_rejected') AND e.group_id IS NULL`;

const ackDetails = (batch: string, item: string, payrail: string, acquirer: string) =>
  `jsonb_build_object('batch_id', ${batch}, 'item_id', ${item}, 'payrail', ${payrail},
                      'acquirer', ${acquirer})`;

/**
 * Exceptions step (columns of exceptions.ts `foundColumns`): Payrail's view without its line —
 * an accepted item the acquirer did not accept, a rejected one it did not mention.
 */
export const ackMissingExceptions = `
  SELECT 'missing:' || e.key, 'missing', 'acquirer_ack', e.connector, e.currency, NULL::bigint,
         e.key, CASE WHEN r.row_key IS NOT NULL THEN 'acquirer_ack' END, r.row_key, NULL::text,
         ${ackDetails(
           'substr(e.key, 5, length(e.key) - length(e.our_reference) - 5)',
           'e.our_reference',
           `CASE e.kind WHEN 'ack_accepted' THEN 'accepted' ELSE 'rejected' END`,
           `coalesce(r.kind, 'no line')`,
         )} || jsonb_build_object('item_amount', e.amount::text)
    FROM recon_expectations e
    LEFT JOIN recon_records r ON r.source = 'acquirer_ack' AND r.row_key = substr(e.key, 5)
   WHERE e.kind IN ('ack_accepted', 'ack_rejected') AND e.group_id IS NULL
     AND (e.kind = 'ack_accepted' OR r.row_key IS NULL)`;

/**
 * Exceptions step: lines with no view of theirs, of a batch Payrail acknowledged or never had
 * (a batch still in flight waits). An accepted line is a duplicate when another answer accepted
 * the same item too and that one matched or comes first; otherwise unexpected.
 */
export const ackUnexpectedExceptions = `
  SELECT CASE WHEN d.other IS NOT NULL THEN 'duplicate' ELSE 'unexpected' END
           || ':acquirer_ack:' || r.row_key,
         CASE WHEN d.other IS NOT NULL THEN 'duplicate' ELSE 'unexpected' END,
         'acquirer_ack', b.connector, i.currency, NULL::bigint, e.key, 'acquirer_ack', r.row_key,
         NULL::text,
         ${ackDetails(
           batchOf('r'),
           'r.our_reference',
           `CASE WHEN b.id IS NULL THEN 'unknown batch' WHEN i.id IS NULL THEN 'unknown item'
                 WHEN i.batch_id = b.id THEN i.clearing_status ELSE 'not in this batch' END`,
           'r.kind',
         )} || jsonb_build_object('duplicate_of', d.other)
    FROM recon_records r
    LEFT JOIN settlement_batches b ON b.id = ${batchOf('r')}
    LEFT JOIN balance_transactions i ON i.id = r.our_reference
    LEFT JOIN recon_expectations e ON e.key = 'ack:' || r.row_key
    LEFT JOIN LATERAL (
      SELECT min(o.row_key) AS other FROM recon_records o
       WHERE r.kind = 'accepted' AND o.source = 'acquirer_ack' AND o.kind = 'accepted'
         AND o.our_reference = r.our_reference AND o.row_key <> r.row_key
         AND (o.group_id IS NOT NULL OR o.row_key < r.row_key)) d ON true
   WHERE r.source = 'acquirer_ack' AND r.group_id IS NULL
     AND (b.id IS NULL OR b.status IN ${acknowledgedStatusesSql})
     AND NOT EXISTS (SELECT 1 FROM recon_exceptions x
                      WHERE x.record_source = 'acquirer_ack' AND x.record_key = r.row_key)`;
