-- wrk script: badges of repos picked uniformly at random from bench/r1 .. bench/rN
-- (N = 1,000,000 unless a copy says otherwise), then the WRKRESULT line of report.lua.
-- Issue 7's spread load: nearly every hit in a flush is a different repo.
local n = 1000000
request = function()
  return wrk.format("GET", "/badge.svg?repo=bench/r" .. math.random(1, n))
end
done = function(summary, latency, requests)
  io.write(string.format("WRKRESULT requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
