-- PATCH {BENCH_PREFIX}/{random id} in Entra's default dialect (capitalised op, path + string value); the value
-- changes on every request, so every PATCH is a real update (1 storage write: displayName is not indexed).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = c.lines()
local headers = c.headers(true)
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  local body = '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[' ..
    '{"op":"Replace","path":"displayName","value":"Patched ' .. c.run .. " " .. n .. '"}]}'
  return wrk.format("PATCH", c.prefix .. "/" .. ids[math.random(#ids)], headers, body)
end
done = c.done
