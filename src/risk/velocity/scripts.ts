// The Lua scripts of the Redis velocity store. Each touches the keys of ONE entity only (one
// hash tag, so one Redis Cluster slot) and runs atomically there: a record's dedupe marker and
// its counts are written together or not at all, so a retried record never loses or doubles a
// count. The keys are laid out so that a read costs O(log n) per count however hot the entity
// (a card-testing IP address declines thousands of times): counts are ZCOUNTs; a sum adds the
// hours wholly inside the window from per-hour sums and walks only the authorized entries of
// the two hours at its edges, so it stays exact without walking the week.
//
// Keys of an entity (KEYS[1..6] of both scripts):
//   attempts  sorted set: attempt id → time (ms); every attempt counted, and the dedupe marker
//   declined  sorted set: attempt id → time, the declined ones
//   amounts   sorted set: attempt id → time, the authorized ones with an amount
//   cents     hash: attempt id → authorized cents (the members of `amounts`)
//   cards     sorted set: card fingerprint → the latest time it was seen
//   hours     hash: hour number (time / 3,600,000, floored) → the cents of `amounts` in it
import { createHash } from 'node:crypto';

/** How many arguments one ZREM/HDEL/HMGET gets from a script (Lua's unpack has a limit). */
const chunk = 500;

/** The per-hour sums' bucket; every window is a whole number of hours. */
const hourMs = 3_600_000;

/**
 * ARGV: time ms, attempt id, result ('a' | 'd'), authorized cents, card ('' for none), retention
 * ms, entries max, time to live ms. Returns 1 when counted, 0 when the attempt was counted
 * already. Pruning is measured from the newest attempt: older than the retention, and beyond
 * `entries max` (oldest first; one millisecond's attempts in attempt-id order), attempts go
 * from every set; cards go by their latest time, the same way. The memory store mirrors this.
 */
const recordScriptText = `
local hourMs = ${hourMs}
local function hourOf(atMs) return string.format('%.0f', math.floor(atMs / hourMs)) end
local function removeAll(ids)
  for _, id in ipairs(ids) do
    local atMs = redis.call('ZSCORE', KEYS[3], id)
    if atMs then
      local cents = tonumber(redis.call('HGET', KEYS[4], id)) or 0
      local hour = hourOf(tonumber(atMs))
      if redis.call('HINCRBY', KEYS[6], hour, -cents) <= 0 then redis.call('HDEL', KEYS[6], hour) end
    end
  end
  for first = 1, #ids, ${chunk} do
    local part = { unpack(ids, first, math.min(first + ${chunk} - 1, #ids)) }
    redis.call('ZREM', KEYS[1], unpack(part))
    redis.call('ZREM', KEYS[2], unpack(part))
    redis.call('ZREM', KEYS[3], unpack(part))
    redis.call('HDEL', KEYS[4], unpack(part))
  end
end
local added = redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[2])
if added == 1 then
  if ARGV[3] == 'd' then
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
  elseif tonumber(ARGV[4]) > 0 then
    redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
    redis.call('HSET', KEYS[4], ARGV[2], ARGV[4])
    redis.call('HINCRBY', KEYS[6], hourOf(tonumber(ARGV[1])), ARGV[4])
  end
  if ARGV[5] ~= '' then redis.call('ZADD', KEYS[5], 'GT', ARGV[1], ARGV[5]) end
  local newest = tonumber(redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2])
  local cutoff = string.format('%.0f', newest - tonumber(ARGV[6]))
  local entriesMax = tonumber(ARGV[7])
  local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  local excess = redis.call('ZCARD', KEYS[1]) - #gone - entriesMax
  if excess > 0 then
    for _, id in ipairs(redis.call('ZRANGE', KEYS[1], #gone, #gone + excess - 1)) do
      gone[#gone + 1] = id
    end
  end
  removeAll(gone)
  redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', cutoff)
  local cardsExcess = redis.call('ZCARD', KEYS[5]) - entriesMax
  if cardsExcess > 0 then redis.call('ZREMRANGEBYRANK', KEYS[5], 0, cardsExcess - 1) end
end
for index = 1, 6 do redis.call('PEXPIRE', KEYS[index], ARGV[8]) end
return added
`;

/**
 * ARGV: now ms, the current card fingerprint ('' for none), then the window lengths in ms
 * (hourly, daily, weekly; the last is the longest). Returns per window: total, authorized,
 * declined, authorized cents, distinct cards (cards whose latest use is in the window, and the
 * current card). Windows are (now - length, now].
 */
const readScriptText = `
local now = tonumber(ARGV[1])
local card = ARGV[2]
local lengths = {}
for index = 3, #ARGV do lengths[#lengths + 1] = tonumber(ARGV[index]) end
local function lowest(length) return '(' .. string.format('%.0f', now - length) end
local hourMs = ${hourMs}
local function format(number) return string.format('%.0f', number) end
local function sumOf(values)
  local sum = 0
  for _, value in ipairs(values) do sum = sum + (tonumber(value) or 0) end
  return sum
end
-- The authorized cents of the entries with a time in (low, high] (whole milliseconds).
local function scanned(low, high)
  if high <= low then return 0 end
  local ids = redis.call('ZRANGEBYSCORE', KEYS[3], '(' .. format(low), format(high))
  local sum = 0
  for first = 1, #ids, ${chunk} do
    sum = sum + sumOf(redis.call('HMGET', KEYS[4], unpack(ids, first, math.min(first + ${chunk} - 1, #ids))))
  end
  return sum
end
local function centsIn(length)
  local low = now - length
  local lowHour = math.floor(low / hourMs)
  local nowHour = math.floor(now / hourMs)
  if lowHour == nowHour then return scanned(low, now) end
  local sum = scanned(low, (lowHour + 1) * hourMs - 1) + scanned(nowHour * hourMs - 1, now)
  local hours = {}
  for hour = lowHour + 1, nowHour - 1 do hours[#hours + 1] = format(hour) end
  for first = 1, #hours, ${chunk} do
    sum = sum + sumOf(redis.call('HMGET', KEYS[6], unpack(hours, first, math.min(first + ${chunk} - 1, #hours))))
  end
  return sum
end
local cardSeen = nil
if card ~= '' then cardSeen = tonumber(redis.call('ZSCORE', KEYS[5], card)) end
local reply = {}
for window = 1, #lengths do
  local low = lowest(lengths[window])
  local total = redis.call('ZCOUNT', KEYS[1], low, ARGV[1])
  local declined = redis.call('ZCOUNT', KEYS[2], low, ARGV[1])
  local cards = redis.call('ZCOUNT', KEYS[5], low, ARGV[1])
  if card ~= '' and not (cardSeen and cardSeen > now - lengths[window] and cardSeen <= now) then
    cards = cards + 1
  end
  reply[#reply + 1] = total
  reply[#reply + 1] = total - declined
  reply[#reply + 1] = declined
  reply[#reply + 1] = centsIn(lengths[window])
  reply[#reply + 1] = cards
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
