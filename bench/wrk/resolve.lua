-- GET random stored PermIDs. PERMID_BENCH_PERMIDS names a file of PermIDs; PERMID_BENCH_ETAG, when
-- set, is sent as If-None-Match (revalidation: 304s).
package.path = os.getenv("PERMID_BENCH_LUA") .. "/?.lua;" .. package.path
local common = require("common")
local permids = common.lines(os.getenv("PERMID_BENCH_PERMIDS"))
local etag = os.getenv("PERMID_BENCH_ETAG")
local headers = etag and { ["If-None-Match"] = etag } or {}
math.randomseed(os.time())

request = function()
  return wrk.format("GET", "/v1/peers/" .. permids[math.random(#permids)], headers)
end

done = common.report
