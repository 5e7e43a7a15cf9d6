-- GET {BENCH_PREFIX}/{id} for a random id of BENCH_LINES (GET /Users/{id}, and both GET baselines).
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local ids = c.lines()
local headers = c.headers(false)
math.randomseed(os.time())
request = function()
  return wrk.format("GET", c.prefix .. "/" .. ids[math.random(#ids)], headers)
end
done = c.done
