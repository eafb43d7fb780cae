-- Shared by the wrk scripts: loads PermIDs, reports latency percentiles as one JSON line.
local M = {}

function M.lines(path)
  local out = {}
  for line in io.lines(path) do if #line > 0 then out[#out + 1] = line end end
  return out
end

function M.report(summary, latency)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "errors": %d, "non2xx": %d, "p50_us": %.1f, "p99_us": %.1f, "p999_us": %.1f}\n',
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end

return M
