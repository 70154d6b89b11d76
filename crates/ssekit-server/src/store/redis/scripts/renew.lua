-- Renews a lease. KEYS: meta. ARGV: owner, token, lease ms.
-- Answers the new deadline (Redis TIME, ms), or 0 when the lease is lost (another owner, the
-- stream ended or gone, or the lease ran out already: then a sweeper may be ending it).
local m = redis.call('HMGET', KEYS[1], 'status', 'owner', 'token', 'deadline')
if m[1] ~= 'running' or m[2] ~= ARGV[1] or m[3] ~= ARGV[2] then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(m[4]) then return 0 end
local deadline = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], 'deadline', deadline)
return deadline
