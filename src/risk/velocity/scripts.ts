// The Lua scripts of the Redis velocity store. Each touches the keys of ONE entity only (one
// hash tag, so one Redis Cluster slot) and runs atomically there: a record's dedupe marker and
// its entry are written together or not at all, so a retried record never loses or doubles a
// count. The read computes the window tallies next to the data and returns 15 integers, not the
// entries (a hot IP address keeps up to 10,000).
import { createHash } from 'node:crypto';

/**
 * KEYS: entries (member = encoded entry, score = time in ms), attempt ids (member = attempt id,
 * same score). ARGV: time ms, entry, attempt id, retention ms, entries max, time to live ms.
 * Returns 1 when counted, 0 when the attempt was already counted for this entity.
 * Pruning is measured from the newest entry, as the memory store does; both sets drop the same
 * ranks (entries of one millisecond sort by the entry text, which starts with the attempt id).
 */
const recordScriptText = `
local added = redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[3])
if added == 1 then
  redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local cutoff = tonumber(newest[2]) - tonumber(ARGV[4])
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
  local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[5])
  if excess > 0 then
    redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
    redis.call('ZREMRANGEBYRANK', KEYS[2], 0, excess - 1)
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return added
`;

/**
 * KEYS: entries. ARGV: now ms, the current card fingerprint ('' for none), then the window
 * lengths in ms (hourly, daily, weekly; the last is the longest). Returns per window: total,
 * authorized, declined, authorized cents, distinct cards (the current card included).
 * Windows are (now - length, now].
 */
const readScriptText = `
local now = tonumber(ARGV[1])
local lengths = {}
for index = 3, #ARGV do lengths[#lengths + 1] = tonumber(ARGV[index]) end
local oldest = '(' .. string.format('%.0f', now - lengths[#lengths])
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], oldest, ARGV[1], 'WITHSCORES')
local tallies = {}
for window = 1, #lengths do
  tallies[window] = { total = 0, authorized = 0, declined = 0, cents = 0, cards = {}, distinct = 0 }
  if ARGV[2] ~= '' then
    tallies[window].cards[ARGV[2]] = true
    tallies[window].distinct = 1
  end
end
for index = 1, #entries, 2 do
  local score = tonumber(entries[index + 1])
  local _, _, result, cents, card = string.find(entries[index], '^.-\\31(.)\\31(%d+)\\31(.*)$')
  for window = 1, #lengths do
    if score > now - lengths[window] then
      local tally = tallies[window]
      tally.total = tally.total + 1
      if result == 'a' then tally.authorized = tally.authorized + 1 else tally.declined = tally.declined + 1 end
      tally.cents = tally.cents + tonumber(cents)
      if card ~= '' and not tally.cards[card] then
        tally.cards[card] = true
        tally.distinct = tally.distinct + 1
      end
    end
  end
end
local reply = {}
for window = 1, #lengths do
  local tally = tallies[window]
  reply[#reply + 1] = tally.total
  reply[#reply + 1] = tally.authorized
  reply[#reply + 1] = tally.declined
  reply[#reply + 1] = tally.cents
  reply[#reply + 1] = tally.distinct
end
return reply
`;

/** A script with the SHA-1 Redis knows it by (EVALSHA). */
export type VelocityScript = { readonly text: string; readonly sha: string };

function script(text: string): VelocityScript {
  return { text, sha: createHash('sha1').update(text).digest('hex') };
}

export const recordScript = script(recordScriptText);
export const readScript = script(readScriptText);
