-- ghit_apply v2: one chunk of (repo, day, hits) deltas from one frontend, exactly once.
-- (shared/design/redis.md, section 1.3; compiled into ghit by store_redis_lua.S.)
-- KEYS[1] ghit:epoch  KEYS[2] ghit:fe:<frontend-id>  KEYS[3] repos  KEYS[4] ghit:first
-- KEYS[5 .. 4+ndays] repos:<day> for each distinct day in the chunk
-- then per delta: repo:<R>, repo:<day>:<R> and, only when day ~= today, repo:<today>:<R>
-- and last ghit:feed
-- ARGV[1] epoch  ARGV[2] seq  ARGV[3] ttl of the frontend key (s)  ARGV[4] today
-- ARGV[5] ndays  ARGV[6] n  ARGV[7 .. 6+ndays] the days
-- then per delta: R, day index (1-based), hits; then the frontend id and the feed's length
-- An applied chunk appends its repos to the stream ghit:feed ({fe, r: the R's, space-separated}),
-- so that the other frontends know which repos of their caches changed (v2).
-- Every write after the gate is a pcall: a key of the wrong type loses only its own hits,
-- and each refusal is an error of the reply, 'KEY: what was not written or read (ERROR)'.
-- Reply: {1 applied | 0 already applied, hw, {total, today_hits, first_day, ...} per delta, {errors}}
-- first_day is '' (unknown: keep yours) for a repo that had hits before, on today: the
-- sets and ghit:first are written only when a repo or its day is new (a total or day count
-- that was 0), which saves three of five commands a delta on the common path.
-- Errors (nothing written): GHITEPOCH <have>, GHITGAP <hw>; and whatever Redis refuses
-- before the first write (OOM, READONLY, MISCONF, NOREPLICAS, BUSY, LOADING).
local have = redis.call('GET', KEYS[1])
if have ~= ARGV[1] then
  return redis.error_reply('GHITEPOCH ' .. (have or 'none'))
end
local seq = tonumber(ARGV[2])
local hw = tonumber(redis.call('GET', KEYS[2]) or '0')
if seq > hw + 1 then
  return redis.error_reply('GHITGAP ' .. string.format('%d', hw))
end
local apply = seq == hw + 1
if apply then
  -- The first write: under maxmemory it is refused before anything changed;
  -- once it is done Redis lets the rest of the script write.
  redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
end
local today, ndays, n = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local k, a = 4 + ndays, 6 + ndays        -- cursors into KEYS and ARGV
local rows, errs, names = {}, {}, {}
local adds = {}                          -- members to add, by key index (the sets' SADDs)
local function add(key, r)
  local m = adds[key]
  if not m then m = {}; adds[key] = m end
  m[#m + 1] = r
end
-- A pcall of cmd on key: its reply, or nil with the refusal in errs. what says what was
-- missed, a format of the arguments after the key: built only on a refusal, not per delta.
local function try(what, cmd, key, ...)
  local v = redis.pcall(cmd, key, ...)
  if type(v) == 'table' and v.err then
    errs[#errs + 1] = key .. ': ' .. string.format(what, ...) .. ' (' .. v.err .. ')'
    return nil
  end
  return v
end
local function count(key) return tonumber(try('not read', 'GET', key) or 0) or 0 end
for i = 1, n do
  local r, di, hits = ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  a = a + 3
  local day = ARGV[6 + di]
  local kt, kd = KEYS[k + 1], KEYS[k + 2]
  k = k + 2
  local t, d
  local fresh = not apply or day ~= today -- first day to read (and maybe lower)
  if apply then
    local h = tonumber(hits)
    local tv = try('%s hits not added', 'INCRBY', kt, hits)
    local dv = try('%s hits not added', 'INCRBY', kd, hits)
    t, d = tv or 0, dv or 0
    if tv and t <= h then
      add(3, r) -- a new repo (a member ever since, otherwise)
      fresh = true
    end
    if dv and d <= h then
      add(4 + di, r)
    end
    names[#names + 1] = r
  else
    t, d = count(kt), count(kd)
  end
  if day ~= today then
    k = k + 1
    d = count(KEYS[k])
  end
  local f = ''
  if fresh then
    f = try('the first day of %s not read', 'HGET', KEYS[4], r)
    if apply and (not f or day < f) then
      try('the first day of %s not set', 'HSET', KEYS[4], r, day)
      f = day
    end
    f = f or day
  end
  rows[#rows + 1] = t; rows[#rows + 1] = d; rows[#rows + 1] = f
end
-- One SADD per set and at most 1,000 members (Lua's unpack has a limit), not one per delta:
-- a third of the commands a delta costs when hits spread over many repos.
for key, m in pairs(adds) do
  for i = 1, #m, 1000 do
    local j = math.min(i + 999, #m)
    try((j - i + 1) .. ' members not added, %s first', 'SADD', KEYS[key], unpack(m, i, j))
  end
end
if apply then
  try('the chunk not announced to the other frontends', 'XADD', KEYS[#KEYS], 'MAXLEN', '~',
      ARGV[#ARGV], '*', 'fe', ARGV[#ARGV - 1], 'r', table.concat(names, ' '))
end
return {apply and 1 or 0, apply and seq or hw, rows, errs}
