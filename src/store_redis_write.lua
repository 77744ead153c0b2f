-- ghit_write v2: one chunk of whole-repo puts (set, add, delete) from one frontend or
-- command, exactly once, gated like ghit_apply by the sender's high-water mark.
-- (store_redis.c, "whole repos"; compiled into ghit by store_redis_lua.S.)
-- KEYS[1] ghit:epoch  KEYS[2] ghit:fe:<frontend-id>  KEYS[3] repos  KEYS[4] ghit:first
-- ARGV[1] epoch  ARGV[2] seq  ARGV[3] ttl of the frontend key (s)  ARGV[4] today
-- ARGV[5] n, then per put: mode (S set, A add, D delete), R, total, first day, ndays,
-- then ndays pairs of day, hits; then the frontend id and the feed's length.
-- KEYS[5] ghit:feed: the repos written are appended to it, as ghit_apply does (v2), so
-- that the frontends' caches read them again.
-- The day keys repos:<day> and repo:<day>:<R> are built here, not declared: a set or a
-- delete must find a repo's old days, which only the script knows (from its first day to
-- today, the 2015 schema has no index of a repo's days). Redis, Valkey and KeyDB allow it.
-- An old day is found by the repo's membership of repos:<day>, which ghit always writes
-- with the day's counter (SMISMEMBER: Redis 6.2 on). A day key of 2015 data whose SADD was
-- lost is not found; it is left, and shows in that day's history, nowhere else.
-- Reply: {1 applied | 0 already applied, hw, {}, {errors}}, the shape of ghit_apply's.
-- Errors (nothing written): GHITEPOCH <have>, GHITGAP <hw>, and what Redis refuses before
-- the first write (OOM, READONLY, ...), as ghit_apply.
local have = redis.call('GET', KEYS[1])
if have ~= ARGV[1] then
  return redis.error_reply('GHITEPOCH ' .. (have or 'none'))
end
local seq = tonumber(ARGV[2])
local hw = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq > hw + 1 then
  return redis.error_reply('GHITGAP ' .. string.format('%d', hw))
end
if seq <= hw then
  return {0, hw, {}, {}}
end
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3]) -- the first write, as in ghit_apply

local errs = {}
local function try(...)
  local v = redis.pcall(...)
  if type(v) == 'table' and v.err then
    errs[#errs + 1] = select(2, ...) .. ': ' .. select(1, ...) .. ' not done (' .. v.err .. ')'
  end
  return v
end

-- Days since 1970-01-01 of 'YYYY-MM-DD', and back (the civil calendar, as src/day.c).
local floor = math.floor
local function day_num(s)
  local y, m, d = tonumber(s:sub(1, 4)), tonumber(s:sub(6, 7)), tonumber(s:sub(9, 10))
  if m <= 2 then y = y - 1 end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local doy = floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
  return era * 146097 + yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy - 719468
end
local function day_text(z)
  z = z + 719468
  local era = floor(z / 146097)
  local doe = z - era * 146097
  local yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100))
  local mp = floor((5 * doy + 2) / 153)
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02d', y, m, doy - floor((153 * mp + 2) / 5) + 1)
end

-- The old days of the chunk's sets and deletes go first (their repos are distinct), found
-- day by day from the earliest of their first days to today: one SMISMEMBER of the day's
-- set a day for all of them, then SREM and DEL where a repo is a member. The 2015 schema
-- has no index of a repo's days; this costs the span of days, not repos times days.
local n = tonumber(ARGV[5])
local clear, firsts, lo = {}, {}, nil
do
  local a = 5
  for _ = 1, n do
    local mode, r, ndays = ARGV[a + 1], ARGV[a + 2], tonumber(ARGV[a + 5])
    a = a + 5 + 2 * ndays
    local f = mode ~= 'A' and redis.pcall('HGET', KEYS[4], r)
    if type(f) == 'string' and f:match('^%d%d%d%d%-%d%d%-%d%d$') then
      clear[#clear + 1] = r
      firsts[#clear] = day_num(f)
      if not lo or firsts[#clear] < lo then lo = firsts[#clear] end
    end
  end
end
for z = lo or 1, lo and day_num(ARGV[4]) or 0 do
  local members = {}
  for i = 1, #clear do
    if firsts[i] <= z then members[#members + 1] = clear[i] end
  end
  local day = day_text(z)
  local set = 'repos:' .. day
  local is = redis.pcall('SMISMEMBER', set, unpack(members))
  if type(is) == 'table' and is.err then
    errs[#errs + 1] = set .. ': not read, its repos\' day keys left (' .. is.err .. ')'
  else
    for i = 1, #members do
      if is[i] == 1 then
        try('SREM', set, members[i])
        try('DEL', 'repo:' .. day .. ':' .. members[i])
      end
    end
  end
end

local a = 5
for _ = 1, n do
  local mode, r, total, first, ndays = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4],
                                       tonumber(ARGV[a + 5])
  a = a + 5
  local kt = 'repo:' .. r
  if mode ~= 'A' then
    try('DEL', kt)
    try('HDEL', KEYS[4], r)
    try('SREM', KEYS[3], r)
  end
  if mode ~= 'D' then
    try('INCRBY', kt, total)
    local f = redis.pcall('HGET', KEYS[4], r)
    if type(f) ~= 'string' or first < f then try('HSET', KEYS[4], r, first) end
    try('SADD', KEYS[3], r)
    for _ = 1, ndays do
      local day, hits = ARGV[a + 1], ARGV[a + 2]
      try('INCRBY', 'repo:' .. day .. ':' .. r, hits)
      try('SADD', 'repos:' .. day, r)
      a = a + 2
    end
  else
    a = a + 2 * ndays
  end
end
local names = {}
a = 5
for i = 1, n do
  names[i] = ARGV[a + 2]
  a = a + 5 + 2 * tonumber(ARGV[a + 5])
end
if n > 0 then
  try('XADD', KEYS[5], 'MAXLEN', '~', ARGV[#ARGV], '*', 'fe', ARGV[#ARGV - 1], 'r',
      table.concat(names, ' '))
end
return {1, seq, {}, errs}
