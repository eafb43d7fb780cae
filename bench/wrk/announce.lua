-- PUT pre-signed announcements (PERMID_BENCH_ANNOUNCEMENTS: "path<TAB>body" lines), each thread taking
-- its own share, each body sent at most once. With PERMID_BENCH_MIX=N, N% of requests are these PUTs
-- and the rest GETs of PermIDs drawn uniformly from PERMID_BENCH_PERMIDS. A thread whose share runs
-- out sends GETs instead (in a pure announce run, its first body again) and counts them as "exhausted":
-- the harness fails such a run rather than resend bodies (answered 409) or report a mix that was not sent.
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local headers = { ["Content-Type"] = "application/json" }

setup = common.setup

init = function(args)
  common.seed()
  local all = common.lines(os.getenv("PERMID_BENCH_ANNOUNCEMENTS"))
  local total = tonumber(os.getenv("PERMID_BENCH_THREADS") or "1")
  bodies = {}
  for i = id, #all, total do
    local tab = string.find(all[i], "\t", 1, true)
    bodies[#bodies + 1] = { string.sub(all[i], 1, tab - 1), string.sub(all[i], tab + 1) }
  end
  mix = tonumber(os.getenv("PERMID_BENCH_MIX") or "100")
  local file = os.getenv("PERMID_BENCH_PERMIDS")
  pick = file and common.sampler(file)
  puts, exhausted = 0, 0
end

request = function()
  if mix >= 100 or math.random(100) <= mix then
    if puts < #bodies then
      puts = puts + 1
      local body = bodies[puts]
      return wrk.format("PUT", body[1], headers, body[2])
    end
    exhausted = exhausted + 1
    if not pick then
      return wrk.format("PUT", bodies[1][1], headers, bodies[1][2])
    end
  end
  return wrk.format("GET", "/v1/peers/" .. pick())
end

done = common.report
