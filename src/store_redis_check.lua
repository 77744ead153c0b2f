-- ghit_check v2: the idle probe of one frontend (shared/design/redis.md, section 4).
-- KEYS[1] ghit:epoch  KEYS[2] ghit:fe:<frontend-id>  ARGV[1] epoch  ARGV[2] ttl (s)
-- Checks the epoch, then writes the frontend key as it is, refreshing its expiry: a
-- harmless write, so a replica (READONLY), a failing disk (MISCONF) or missing replicas
-- show while idle too. It is a SET, which Redis refuses when out of memory (maxmemory with
-- noeviction) as it refuses a chunk's first write; EXPIRE and GET pass there (v1 used
-- them, and /healthz stayed 200 while no chunk could apply). XX: a frontend that has not
-- written yet gets no key.
-- Reply: the frontend's high-water mark (0 before its first chunk).
local have = redis.call('GET', KEYS[1])
if have ~= ARGV[1] then
  return redis.error_reply('GHITEPOCH ' .. (have or 'none'))
end
local hw = redis.call('GET', KEYS[2])
redis.call('SET', KEYS[2], hw or '0', 'XX', 'EX', ARGV[2])
return tonumber(hw or '0')
