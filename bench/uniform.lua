-- wrk script: badges of repos picked uniformly at random from bench/r1 .. bench/rN
-- (N = 1,000,000, or wrk's first argument after --), then the WRKRESULT line of report.lua.
-- Issue 7's spread load: nearly every hit in a flush is a different repo.
--
-- Each thread seeds its own generator: unseeded, LuaJIT starts every thread's at the same
-- state, so both threads drew the same repos and a flush held about half as many distinct
-- repos as hits (ghit_flush_rows_total / ghit_flush_hits_total over 6 s on the million:
-- 0.56 unseeded, 0.94 seeded).
-- The request is built from a template made once, not by wrk.format each time: wrk runs on
-- the server's two cores, and on this VM that cut its CPU from 7.7 to 6.7 us a request (one
-- fixed request, report.lua: 5.4).
local n = 1000000
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local head, tail
init = function(args)
  n = tonumber(args[1]) or n
  math.randomseed(1 + id)
  head, tail = wrk.format("GET", "/badge.svg?repo=bench/r@"):match("^(.-)@(.*)$")
end
request = function()
  return head .. math.random(1, n) .. tail
end
done = function(summary, latency, requests)
  io.write(string.format("WRKRESULT requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
