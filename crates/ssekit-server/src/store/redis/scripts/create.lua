-- Creates a stream. KEYS: meta, tombstone. ARGV: kind, info, created_at, owner ('' for none),
-- lease ms.
-- Answers {'exists'} or {'ok', lease deadline (Redis TIME, ms; 0 without an owner)}.
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return {'exists'}
end
local deadline = 0
if ARGV[4] ~= '' then
  local t = redis.call('TIME')
  deadline = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[5])
  redis.call('HSET', KEYS[1], 'owner', ARGV[4], 'token', 1, 'deadline', deadline, 'obatch', 0)
end
redis.call('HSET', KEYS[1], 'kind', ARGV[1], 'info', ARGV[2], 'created_at', ARGV[3],
  'status', 'running', 'last_seq', 0)
return {'ok', deadline}
