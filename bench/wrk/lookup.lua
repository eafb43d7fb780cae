-- POST /v1/peers/lookup naming 100 distinct PermIDs drawn uniformly from PERMID_BENCH_PERMIDS.
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local headers = { ["Content-Type"] = "application/json" }

setup = common.setup

init = function(args)
  common.seed()
  pick = common.sampler(os.getenv("PERMID_BENCH_PERMIDS"))
end

request = function()
  local chosen, seen = {}, {}
  while #chosen < 100 do
    local permid = pick()
    if not seen[permid] then
      seen[permid] = true
      chosen[#chosen + 1] = '"' .. permid .. '"'
    end
  end
  return wrk.format("POST", "/v1/peers/lookup", headers, '{"permids":[' .. table.concat(chosen, ",") .. ']}')
end

done = common.report
