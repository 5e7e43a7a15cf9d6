-- POST {BENCH_PREFIX} with an Entra-shaped user and a unique userName (userName + externalId + work email:
-- 6 storage writes and 3 reads per create, see docs/architecture.md).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local headers = c.headers(true)
local n = 0
local thread_tag = tostring(math.random(1, 1000000000))
local numbered = os.getenv("BENCH_NUMBERED") == "1"
request = function()
  n = n + 1
  -- BENCH_NUMBERED=1: userNames BENCH_RUN-1, BENCH_RUN-2, ... (tests/profile.sh knows them without listing the tenant).
  local u = numbered and (c.run .. "-" .. n) or (c.run .. "-" .. thread_tag .. "-" .. n)
  local body = '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],' ..
    '"externalId":"' .. u .. '","userName":"' .. u .. '@bench.example.com","active":true,' ..
    '"displayName":"Bench ' .. u .. '",' ..
    '"emails":[{"primary":true,"type":"work","value":"' .. u .. '@bench.example.com"}],' ..
    '"name":{"formatted":"Bench ' .. u .. '","familyName":"' .. u .. '","givenName":"Bench"},' ..
    '"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Benchmarks"},"roles":[]}'
  return wrk.format("POST", c.prefix, headers, body)
end
done = c.done
