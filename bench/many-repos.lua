-- wrk script: spread requests round-robin over bench/repo1 .. bench/repo1000
-- (each wrk thread starts at a random offset), then print the WRKRESULT line.
-- As ../shared/bench/ghitme-2015/many-repos.lua, except that there both threads start at
-- one offset. Note: a Lua request() per request costs wrk some CPU on this 2-core machine,
-- so this workload is a little slower for any server than the fixed request of report.lua.
local n = 1000
local i = 0
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
init = function(args)
  -- Unseeded, LuaJIT gives every thread the same numbers: the same offset.
  math.randomseed(1 + id)
  i = math.random(0, n - 1)
end
request = function()
  i = (i % n) + 1
  return wrk.format("GET", "/badge.svg?repo=bench/repo" .. i)
end
done = function(summary, latency, requests)
  io.write(string.format("WRKRESULT requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
