-- PATCH {BENCH_PREFIX} (one group: .../Groups/{id}) adding one member (a random user id of BENCH_LINES), the
-- way Entra adds group members. Used only when the gateway serves /Groups.
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = c.lines()
local headers = c.headers(true)
math.randomseed(os.time())
request = function()
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
    '{"op":"Add","path":"members","value":[{"value":"' .. ids[math.random(#ids)] .. '"}]}]}'
  return wrk.format("PATCH", c.prefix, headers, body)
end
done = c.done
