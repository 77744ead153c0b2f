-- wrk script: one fixed request (no per-request Lua, so wrk runs at full speed) and,
-- at the end, one machine-readable WRKRESULT line that bench/run.sh and bench/kill9.sh parse.
-- Same output as ../shared/bench/ghitme-2015/report.lua.
--   requests   responses wrk read completely (summary.requests): the "answered" hits
--   p50_us/p99_us  latency percentiles in microseconds
--   errors_status  responses with a status above 399
done = function(summary, latency, requests)
  io.write(string.format("WRKRESULT requests=%d duration_us=%d rps=%.0f p50_us=%d p99_us=%d errors_connect=%d errors_read=%d errors_write=%d errors_status=%d errors_timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout))
end
