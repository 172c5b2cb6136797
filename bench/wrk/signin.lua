-- Sign-ins: POST /signin with email and password for a pending flow minted beforehand
-- (bench/flows.py keyway-signins: a fresh browser's cookie, the flow handle and its CSRF
-- token), one flow per request. A successful sign-in answers 303 (on to the redirect URI with
-- a code, the grant being there already). When the flows run out, requests go to
-- /bench/signins-exhausted (a 404, counted).
--   BENCH_SIGNINS  file of "cookie<TAB>req<TAB>csrf" lines
--   BENCH_EMAIL, BENCH_PASSWORD
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local flows, next_flow, creds

function init(args)
  flows = common.read_lines(common.env("BENCH_SIGNINS"))
  next_flow = 1
  creds = "&email=" .. common.urlencode(common.env("BENCH_EMAIL")) ..
    "&password=" .. common.urlencode(common.env("BENCH_PASSWORD"))
end

function request()
  local line = flows[next_flow]
  if line == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/bench/signins-exhausted")
  end
  next_flow = next_flow + 1
  local cookie, req, csrf = string.match(line, "^([^\t]+)\t([^\t]+)\t([^\t]+)$")
  return wrk.format("POST", "/signin", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "kw_session=" .. cookie,
  }, "req=" .. req .. "&csrf=" .. csrf .. creds)
end

function response(status, headers, body)
  if status == 303 then
    completed = completed + 1
  elseif status < 400 then
    bad = bad + 1
  end
end
