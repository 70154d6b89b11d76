-- Appends one batch to a stream, or refuses it whole.
--
-- KEYS: meta (hash), events (Stream), idem (hash), tombstone; 5 (optional) this call's key: a
--       unique call id of an unconditional append on Cluster, whose client may send a call again
--       after a reconnect although Redis ran it already.
-- ARGV: 1 mode: 'any' (unconditional), 'owner' (the caller must hold the lease), 'sweep' (only
--         if the lease has run out: the sweeper's terminal);
--       2 owner id, 3 fencing token, 4 batch number (owner appends; '0' otherwise);
--       5 idempotency key ('' for none);
--       6 the status the batch ends the stream with ('' if its last event is not terminal);
--       7 retention ms, 8 tombstone ms (how long an expired id answers 'expired');
--       9 live channel, 10 '1' for SPUBLISH (Cluster), '0' for PUBLISH;
--       11 how long this call's key is kept (ms);
--       12.. the events: name, payload, name, payload …
-- Answers {code, first seq, count, finished_at}; code: 'ok', 'replay', 'notfound', 'expired',
-- 'finished', 'notowner', 'keyreused', 'alive' (sweep: the lease holds), 'stale'.
--
-- Every check comes before the first write, and no write after the first can fail (XADD ids
-- only grow from last_seq, which the checks read; a script that started writing runs to its
-- end, OOM is refused before it starts): nothing is ever half-written.
local meta, events, idem, tomb = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode = ARGV[1]
local call = KEYS[5]
local n = (#ARGV - 11) / 2

if redis.call('EXISTS', meta) == 0 then
  if redis.call('EXISTS', tomb) == 1 then return {'expired', 0, 0, 0} end
  return {'notfound', 0, 0, 0}
end
local m = redis.call('HMGET', meta, 'status', 'last_seq', 'owner', 'token', 'deadline', 'obatch',
  'ofirst', 'on', 'finished_at')
local status, last = m[1], tonumber(m[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- This very call, run already (its answer was lost with a connection): answered as it was.
if call then
  local first = redis.call('GET', call)
  if first then
    local finished_at = 0
    if ARGV[6] ~= '' then finished_at = tonumber(m[9] or '0') end
    return {'ok', tonumber(first), n, finished_at}
  end
end

-- A retried idempotency key: the same events answer the first append again, others are refused.
if ARGV[5] ~= '' then
  local prev = redis.call('HGET', idem, ARGV[5])
  if prev then
    local sep = string.find(prev, ':', 1, true)
    local first, count = tonumber(string.sub(prev, 1, sep - 1)), tonumber(string.sub(prev, sep + 1))
    if count ~= n then return {'keyreused', first, count, 0} end
    local stored = redis.call('XRANGE', events, first .. '-0', (first + count - 1) .. '-0')
    if #stored ~= n then return {'keyreused', first, count, 0} end
    for i = 1, n do
      local f = stored[i][2]
      local name, data = nil, nil
      for j = 1, #f, 2 do
        if f[j] == 'k' then name = f[j + 1] elseif f[j] == 'd' then data = f[j + 1] end
      end
      if name ~= ARGV[10 + 2 * i] or data ~= ARGV[11 + 2 * i] then
        return {'keyreused', first, count, 0}
      end
    end
    return {'replay', first, count, 0}
  end
end

if mode == 'owner' then
  if m[3] ~= ARGV[2] or m[4] ~= ARGV[3] then return {'notowner', 0, 0, 0} end
  -- A batch applied already (its answer was lost on the way back): answer it again.
  local batch, applied = tonumber(ARGV[4]), tonumber(m[6] or '0')
  if batch == applied then return {'replay', tonumber(m[7]), tonumber(m[8]), 0} end
  if batch < applied then return {'stale', 0, 0, 0} end
  if status ~= 'running' then return {'finished', 0, 0, 0} end
  if now >= tonumber(m[5]) then return {'notowner', 0, 0, 0} end
elseif status ~= 'running' then
  return {'finished', 0, 0, 0}
elseif mode == 'sweep' then
  if not m[5] or now < tonumber(m[5]) then return {'alive', 0, 0, tonumber(m[5] or '0')} end
end

-- Writes: the events (`b` marks the last of the batch: followers hand the hub one entry per
-- append), then the meta hash, then the end state, then the wake-up.
for i = 1, n do
  local seq = last + i
  if i == n and ARGV[6] ~= '' then
    redis.call('XADD', events, seq .. '-0', 'k', ARGV[10 + 2 * i], 'd', ARGV[11 + 2 * i], 'b', '1',
      't', '1')
  elseif i == n then
    redis.call('XADD', events, seq .. '-0', 'k', ARGV[10 + 2 * i], 'd', ARGV[11 + 2 * i], 'b', '1')
  else
    redis.call('XADD', events, seq .. '-0', 'k', ARGV[10 + 2 * i], 'd', ARGV[11 + 2 * i])
  end
end
redis.call('HSET', meta, 'last_seq', last + n)
if mode == 'owner' then
  redis.call('HSET', meta, 'obatch', ARGV[4], 'ofirst', last + 1, 'on', n)
end
if call then redis.call('SET', call, last + 1, 'PX', ARGV[11]) end
if ARGV[5] ~= '' then
  redis.call('HSET', idem, ARGV[5], (last + 1) .. ':' .. n)
end
local finished_at = 0
if ARGV[6] ~= '' then
  finished_at = now
  redis.call('HSET', meta, 'status', ARGV[6], 'finished_at', now)
  local retention = tonumber(ARGV[7])
  redis.call('PEXPIRE', meta, retention)
  redis.call('PEXPIRE', events, retention)
  if redis.call('EXISTS', idem) == 1 then redis.call('PEXPIRE', idem, retention) end
  redis.call('SET', tomb, '1', 'PX', retention + tonumber(ARGV[8]))
end
-- The wake-up: '<first>:<last>', and when the batch is small, ':<1 if it ends the stream, else
-- 0>:<JSON array: name, payload, name, payload …>' too, so followers need not read it back.
local wake = (last + 1) .. ':' .. (last + n)
local size = 0
for i = 1, n do size = size + #ARGV[10 + 2 * i] + #ARGV[11 + 2 * i] end
if size <= 8192 then
  local flat = {}
  for i = 1, 2 * n do flat[i] = ARGV[11 + i] end
  local ends = '0'
  if ARGV[6] ~= '' then ends = '1' end
  wake = wake .. ':' .. ends .. ':' .. cjson.encode(flat)
end
if ARGV[10] == '1' then
  redis.call('SPUBLISH', ARGV[9], wake)
else
  redis.call('PUBLISH', ARGV[9], wake)
end
return {'ok', last + 1, n, finished_at}
