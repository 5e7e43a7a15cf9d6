-- Shared by every wrk script of tests/bench.sh (loaded with dofile). Configuration comes from the environment:
--   BENCH_TOKEN   bearer token ("" = no Authorization header: the baselines)
--   BENCH_PREFIX  path prefix, e.g. /scim/v2/tenants/<id>/Users
--   BENCH_LINES   file with one id or userName per line (GET, filter, PATCH)
--   BENCH_RUN     unique prefix for generated userNames (POST)
local M = {}

M.token = os.getenv("BENCH_TOKEN") or ""
M.prefix = os.getenv("BENCH_PREFIX") or "/"
M.run = os.getenv("BENCH_RUN") or tostring(os.time())

function M.lines()
  local path = os.getenv("BENCH_LINES")
  local t = {}
  if path then
    for line in io.lines(path) do
      if #line > 0 then t[#t + 1] = line end
    end
  end
  return t
end

function M.headers(with_body)
  local h = {}
  if #M.token > 0 then h["Authorization"] = "Bearer " .. M.token end
  if with_body then h["Content-Type"] = "application/scim+json" end
  return h
end

function M.urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

-- One machine-readable line for Cluster.Benchmarks (latencies in microseconds).
function M.done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"durationUs":%d,"bytes":%d,"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,' ..
    '"connectErrors":%d,"readErrors":%d,"writeErrors":%d,"timeouts":%d,"non2xx3xx":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status))
end

return M
