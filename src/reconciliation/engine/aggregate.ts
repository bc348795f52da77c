// The aggregate pass (RECON-SPEC.md pass 3), over the small remainder the exact and tolerance
// passes left, bounded by the rules:
//   one-to-many   two or more bank movements naming one batch's settlement reference (a
//                 settlement paid in parts), at most aggregateMembersMax of them
//   many-to-one   one bank credit naming no batch whose amount equals the sum of the batches
//                 of one connector, currency and day, at most aggregateMembersMax of them
// Candidate links are read (at most aggregateLinksMax: more is refused, never truncated
// silently) and merged into groups with union-find: groups that share a member are one group.
// A group's id is a hash of its sorted member keys, so it does not depend on any order.
import crypto from 'node:crypto';
import type { Queryable } from '../../storage/database.ts';
import type { ReconRules } from '../rules.ts';
import { applyLinks, linksTable } from './passes.ts';

type Link = { ek: string; src: string; rk: string };

// $1 members max, $2 bank window days.
const candidateLinks = `
  WITH unmatched_movements AS MATERIALIZED (
    SELECT row_key, kind, currency, amount, value_date, batch_reference
      FROM recon_records
     WHERE source = 'bank_statement' AND group_id IS NULL AND kind IN ('credit', 'debit')
  ),
  batch_expectations AS MATERIALIZED (
    SELECT key, kind, connector, currency, amount, batch_reference, due_on
      FROM recon_expectations
     WHERE kind IN ('bank_credit', 'bank_debit') AND group_id IS NULL AND key LIKE 'batch:%'
  ),
  split AS (
    SELECT e.key AS ek, r.row_key AS rk,
           count(*) OVER (PARTITION BY e.key) AS parts
      FROM batch_expectations e
      JOIN unmatched_movements r ON r.batch_reference = e.batch_reference
       AND r.kind = CASE WHEN e.kind = 'bank_credit' THEN 'credit' ELSE 'debit' END
  ),
  day_sets AS (
    SELECT connector, currency, due_on, sum(amount)::bigint AS total,
           array_agg(key ORDER BY key) AS keys
      FROM batch_expectations WHERE kind = 'bank_credit'
     GROUP BY connector, currency, due_on HAVING count(*) BETWEEN 2 AND $1::int
  ),
  lone_credits AS (
    SELECT r.* FROM unmatched_movements r
     WHERE r.kind = 'credit'
       AND (r.batch_reference IS NULL OR NOT EXISTS (
             SELECT 1 FROM recon_expectations e WHERE e.batch_reference = r.batch_reference))
  ),
  combined AS (
    SELECT unnest(s.keys) AS ek, r.row_key AS rk
      FROM lone_credits r
      JOIN day_sets s ON s.currency = r.currency AND s.total = r.amount
       AND abs(r.value_date::date - s.due_on::date) <= $2::int
  )
  SELECT ek, 'bank_statement' AS src, rk FROM split WHERE parts BETWEEN 2 AND $1::int
  UNION
  SELECT ek, 'bank_statement', rk FROM combined
  ORDER BY 1, 3`;

function find(parent: Map<string, string>, node: string): string {
  let root = node;
  for (let next = parent.get(root); next !== undefined && next !== root; next = parent.get(root))
    root = next;
  // Path compression, iteratively (no recursion over data).
  let current = node;
  while (current !== root) {
    const next = parent.get(current) as string;
    parent.set(current, root);
    current = next;
  }
  return root;
}

/** Connected components of the links' members, each as its sorted member keys. */
export function mergeGroups(links: readonly Link[]): string[][] {
  const parent = new Map<string, string>();
  const union = (a: string, b: string) => {
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const rootA = find(parent, a);
    const rootB = find(parent, b);
    if (rootA !== rootB) parent.set(rootA < rootB ? rootB : rootA, rootA < rootB ? rootA : rootB);
  };
  for (const link of links) union(`e|${link.ek}`, `r|${link.src}:${link.rk}`);
  const components = new Map<string, string[]>();
  for (const node of parent.keys()) {
    const root = find(parent, node);
    const members = components.get(root) ?? [];
    members.push(node);
    components.set(root, members);
  }
  return [...components.values()].map((members) => members.sort());
}

export function groupIdOf(members: readonly string[]): string {
  const digest = crypto.createHash('sha256').update(members.join('\n')).digest('hex');
  return `rcg_${digest.slice(0, 40)}`;
}

export async function aggregatePass(
  tx: Queryable,
  rules: ReconRules,
  context: { runId: string; now: Date },
): Promise<number> {
  const result = await tx.query<Link>(candidateLinks, [
    rules.aggregateMembersMax,
    rules.sources.bank_statement.dateWindowDays,
  ]);
  if (result.rows.length > rules.aggregateLinksMax)
    throw new Error(
      `aggregate pass: ${result.rows.length} candidate links, more than ${rules.aggregateLinksMax}`,
    );
  const groups = mergeGroups(result.rows);
  if (groups.length === 0) return 0;
  const rows = groups.flatMap((members) => {
    const id = groupIdOf(members);
    return members.map((member) => ({ id, member }));
  });
  await tx.query(
    `INSERT INTO ${linksTable} (group_id, pass, member, source, key)
     SELECT g, 'aggregate', substr(m, 1, 1),
            CASE WHEN m LIKE 'r|%' THEN split_part(substr(m, 3), ':', 1) END,
            CASE WHEN m LIKE 'r|%' THEN substr(m, 4 + length(split_part(substr(m, 3), ':', 1)))
                 ELSE substr(m, 3) END
       FROM unnest($1::text[], $2::text[]) AS input (g, m)`,
    [rows.map((row) => row.id), rows.map((row) => row.member)],
  );
  await applyLinks(tx, context.runId, context.now);
  return groups.length;
}
