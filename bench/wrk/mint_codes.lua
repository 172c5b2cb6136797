-- Mints authorization codes for exchange.lua through the real flow, for a signed-in browser
-- whose grant already covers the scopes: GET /o/oauth2/v2/auth with the session cookie, and
-- the 303 to the redirect URI carries the code (consent is skipped). Appends each code to
-- BENCH_CODES and stops the thread once BENCH_COUNT codes are written.
--   BENCH_PATH    the authorization request's path and query
--   BENCH_COOKIE  the kw_session cookie
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local file, target

function init(args)
  file = assert(io.open(common.env("BENCH_CODES"), "a"))
  file:setvbuf("line")
  target = tonumber(common.env("BENCH_COUNT"))
  wrk.method = "GET"
  wrk.path = common.env("BENCH_PATH")
  wrk.headers["Cookie"] = "kw_session=" .. common.env("BENCH_COOKIE")
end

function response(status, headers, body)
  local loc = common.header(headers, "Location")
  local code = status == 303 and loc and string.match(loc, "[?&]code=([^&]+)")
  if code then
    if completed < target then
      file:write(code, "\n")
      completed = completed + 1
    end
    if completed >= target then
      file:flush()
      wrk.thread:stop()
    end
  elseif status < 400 then
    bad = bad + 1
  end
end
