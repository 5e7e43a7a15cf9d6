-- POST {BENCH_PREFIX} (/oauth2/token): the client credentials grant with client_secret_basic.
--   BENCH_TOKEN  base64(client_id:client_secret), sent as Authorization: Basic
local c = dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
local headers = { ["Authorization"] = "Basic " .. c.token, ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "grant_type=client_credentials"
request = function()
  return wrk.format("POST", c.prefix, headers, body)
end
done = c.done
