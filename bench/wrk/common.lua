-- Shared by every bench/wrk script (loaded with dofile from $BENCH_WRK_DIR).
--
-- Parameters come from the environment (set by bench/run):
--   BENCH_OUT   where done() writes this run's summary as one JSON object
-- Each thread may keep the globals `bad` (responses below 400 that were not the expected
-- status: wrk counts only >= 400 as errors), `completed` (units of work finished, e.g. whole
-- flows or sign-ins) and `exhausted` (requests sent after the pre-minted inputs ran out).

local common = {}
local threads = {}

bad, completed, exhausted = 0, 0, 0

function setup(thread)
  table.insert(threads, thread)
end

function common.env(name, default)
  local v = os.getenv(name)
  if v == nil or v == "" then
    if default == nil then error("missing environment variable " .. name) end
    return default
  end
  return v
end

function common.read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then lines[#lines + 1] = line end
  end
  return lines
end

function common.urlencode(s)
  return (string.gsub(s, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function common.header(headers, name)
  return headers[name] or headers[string.lower(name)]
end

function done(summary, latency, requests)
  local b, c, x = 0, 0, 0
  for _, t in ipairs(threads) do
    b = b + (t:get("bad") or 0)
    c = c + (t:get("completed") or 0)
    x = x + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  local out = string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"bad":%d,"completed":%d,"exhausted":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, b, c, x,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean)
  local f = assert(io.open(common.env("BENCH_OUT"), "w"))
  f:write(out)
  f:close()
end

return common
