-- GET /v1/peers/{permid} for PermIDs drawn uniformly from PERMID_BENCH_PERMIDS (one per line).
-- PERMID_BENCH_ETAG, when set, is sent as If-None-Match (revalidation: 304s).
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local etag = os.getenv("PERMID_BENCH_ETAG")
local headers = etag and { ["If-None-Match"] = etag } or {}

setup = common.setup

init = function(args)
  common.seed()
  pick = common.sampler(os.getenv("PERMID_BENCH_PERMIDS"))
end

request = function()
  return wrk.format("GET", "/v1/peers/" .. pick(), headers)
end

common.pace()
done = common.report
