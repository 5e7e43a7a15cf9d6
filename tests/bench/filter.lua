-- GET {BENCH_PREFIX}?filter=userName eq "<random userName of BENCH_LINES>" (Entra's match query).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local names = c.lines()
local headers = c.headers(false)
local paths = {}
for i, n in ipairs(names) do
  paths[i] = c.prefix .. "?filter=" .. c.urlencode('userName eq "' .. n .. '"')
end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
done = c.done
