-- Removes a stream finished before ARGV[1] (ms), leaving its tombstone for ARGV[2] ms.
-- KEYS: meta, events, idem, tombstone. Answers 1 if it removed the stream, else 0.
local m = redis.call('HMGET', KEYS[1], 'status', 'finished_at')
if not m[1] or m[1] == 'running' or not m[2] or tonumber(m[2]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SET', KEYS[4], '1', 'PX', ARGV[2])
return 1
