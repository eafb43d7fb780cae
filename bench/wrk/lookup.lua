-- POST /v1/peers/lookup with 100 random stored PermIDs per request.
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local permids = common.lines(os.getenv("PERMID_BENCH_PERMIDS"))
math.randomseed(os.time())
local bodies = {}
for b = 1, 200 do
  local chosen = {}
  for i = 1, 100 do chosen[i] = '"' .. permids[math.random(#permids)] .. '"' end
  bodies[b] = '{"permids":[' .. table.concat(chosen, ",") .. ']}'
end
local headers = { ["Content-Type"] = "application/json" }

request = function()
  return wrk.format("POST", "/v1/peers/lookup", headers, bodies[math.random(#bodies)])
end

done = common.report
