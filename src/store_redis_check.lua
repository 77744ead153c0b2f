-- ghit_check v1: the idle probe of one frontend (shared/design/redis.md, section 4).
-- KEYS[1] ghit:epoch  KEYS[2] ghit:fe:<frontend-id>  ARGV[1] epoch  ARGV[2] ttl (s)
-- Checks the epoch, then refreshes the frontend key's expiry: a harmless write, so a
-- replica (READONLY), a failing disk (MISCONF) or missing replicas show while idle too.
-- Reply: the frontend's high-water mark (0 before its first chunk).
local have = redis.call('GET', KEYS[1])
if have ~= ARGV[1] then
  return redis.error_reply('GHITEPOCH ' .. (have or 'none'))
end
redis.call('EXPIRE', KEYS[2], ARGV[2])
return tonumber(redis.call('GET', KEYS[2]) or '0')
