-- PUT pre-signed announcements (PERMID_BENCH_ANNOUNCEMENTS: "path<TAB>body" lines), each thread taking
-- its own share so no announcement is sent twice. With PERMID_BENCH_MIX=N, N% of requests are these
-- PUTs and the rest GETs of random stored PermIDs (PERMID_BENCH_PERMIDS).
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local threads = {}
local counter = 0

setup = function(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

init = function(args)
  local all = common.lines(os.getenv("PERMID_BENCH_ANNOUNCEMENTS"))
  local total = tonumber(os.getenv("PERMID_BENCH_THREADS") or "1")
  puts = {}
  for i = id, #all, total do
    local tab = string.find(all[i], "\t", 1, true)
    puts[#puts + 1] = { string.sub(all[i], 1, tab - 1), string.sub(all[i], tab + 1) }
  end
  next_put = 1
  mix = tonumber(os.getenv("PERMID_BENCH_MIX") or "100")
  local file = os.getenv("PERMID_BENCH_PERMIDS")
  permids = file and common.lines(file) or {}
  math.randomseed(os.time() + id)
end

local headers = { ["Content-Type"] = "application/json" }

request = function()
  if mix < 100 and math.random(100) > mix then
    return wrk.format("GET", "/v1/peers/" .. permids[math.random(#permids)])
  end
  local put = puts[next_put]
  next_put = next_put % #puts + 1
  return wrk.format("PUT", put[1], headers, put[2])
end

done = common.report
