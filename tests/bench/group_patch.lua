-- PATCH {BENCH_PREFIX} (one group: .../Groups/{id}) with one membership change, the way Entra sends member
-- changes. Used only when the gateway serves /Groups. Requests go in pairs over the ids of BENCH_LINES (users that
-- are not members): add an id, then remove it again, so every request really changes the member set and the group
-- ends where it started (re-adding a member, or removing a non-member, would be a no-op that writes nothing).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = c.lines()
local headers = c.headers(true)
math.randomseed(os.time())
local n = 2 * math.random(#ids)
request = function()
  local id = ids[(math.floor(n / 2) % #ids) + 1]
  local op = (n % 2 == 0) and "Add" or "Remove"
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
    '{"op":"' .. op .. '","path":"members","value":[{"value":"' .. id .. '"}]}]}'
  return wrk.format("PATCH", c.prefix, headers, body)
end
done = c.done
