-- PATCH {BENCH_PREFIX} (one group: .../Groups/{id}) with one membership change, the way Entra sends member
-- changes. Used only when the gateway serves /Groups. Passes over the user ids (BENCH_LINES) alternate between
-- adding and removing, so that (for one wrk thread) every request really changes the member set instead of
-- re-adding a member that is already there (a no-op that writes nothing).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = c.lines()
local headers = c.headers(true)
math.randomseed(os.time())
local n = math.random(#ids)
request = function()
  n = n + 1
  local id = ids[(n % #ids) + 1]
  local op = (math.floor(n / #ids) % 2 == 0) and "Add" or "Remove"
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
    '{"op":"' .. op .. '","path":"members","value":[{"value":"' .. id .. '"}]}]}'
  return wrk.format("PATCH", c.prefix, headers, body)
end
done = c.done
