-- Shared by the wrk scripts: thread ids and seeds, uniform PermID sampling, paced (open-loop) delays,
-- and one JSON line of results.
--
-- Environment: PERMID_BENCH_SEED (the run's seed; thread n uses SEED + n), PERMID_BENCH_DELAY_MS
-- (when set: after each answer a connection waits an exponentially distributed delay of this mean,
-- so the offered rate is about connections * 1000 / mean per second whatever the server does).
local M = {}
local threads = {}

-- setup runs in wrk's main Lua state once per thread, before the thread's init.
function M.setup(thread)
  threads[#threads + 1] = thread
  thread:set("id", #threads)
end

-- One seed per thread, all derived from the run's seed so a run can be repeated.
function M.seed()
  local seed = tonumber(os.getenv("PERMID_BENCH_SEED") or "1") + id
  math.randomseed(seed)
  seed_used = seed
end

function M.lines(path)
  local out = {}
  for line in io.lines(path) do if #line > 0 then out[#out + 1] = line end end
  return out
end

-- A function returning a uniformly chosen PermID from the file (one per line, all the same length,
-- as every Ed25519 PermID is). The file is kept as one string: a million PermIDs cost 60 MB per
-- thread instead of a table of a million strings.
function M.sampler(path)
  local file = assert(io.open(path, "rb"))
  local all = file:read("*a")
  file:close()
  local width = string.find(all, "\n", 1, true)
  assert(width and #all % width == 0, path .. ": PermIDs must be one per line, all the same length")
  local count = #all / width
  for i = 1, count do
    assert(string.byte(all, i * width) == 10, path .. ": PermIDs must all be the same length")
  end
  return function()
    local start = (math.random(count) - 1) * width + 1
    return string.sub(all, start, start + width - 2)
  end, count
end

-- An exponential delay in whole milliseconds (wrk's unit) with the given mean, rounded up or down
-- at random so the mean is kept.
function M.delay(mean)
  local x = -mean * math.log(1 - math.random())
  local whole = math.floor(x)
  if math.random() < x - whole then whole = whole + 1 end
  return whole
end

local function total(name)
  local sum = 0
  for _, thread in ipairs(threads) do sum = sum + (thread:get(name) or 0) end
  return sum
end

local function seeds()
  local out = {}
  for _, thread in ipairs(threads) do out[#out + 1] = tostring(thread:get("seed_used")) end
  return "[" .. table.concat(out, ",") .. "]"
end

function M.report(summary, latency)
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "bytes": %d, "errors": %d, "non2xx": %d, "p50_us": %.1f, "p99_us": %.1f, ' ..
    '"p999_us": %.1f, "max_us": %.1f, "puts": %d, "exhausted": %d, "threads": %d, "seeds": %s}\n',
    summary.requests, summary.duration / 1e6, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max,
    total("puts"), total("exhausted"), #threads, seeds()))
end

-- Installs delay() when PERMID_BENCH_DELAY_MS is set (wrk paces only when the function exists).
function M.pace()
  local mean = tonumber(os.getenv("PERMID_BENCH_DELAY_MS") or "")
  if mean then delay = function() return M.delay(mean) end end
end

return M
