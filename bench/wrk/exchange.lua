-- Code exchanges: POST /token grant_type=authorization_code, one pre-minted code per request,
-- taken in order from a file. A code is single-use: when the file runs out, requests go to
-- /bench/codes-exhausted (a 404, counted as an error, and in `exhausted`) rather than replay
-- a code (which would revoke the tokens issued from it).
--   BENCH_CODES   file of codes, one a line
--   BENCH_BODY    the rest of the form body (redirect_uri, client_id, client_secret), encoded
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local codes, next_code, rest
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
  codes = common.read_lines(common.env("BENCH_CODES"))
  next_code = 1
  rest = common.env("BENCH_BODY")
end

function request()
  local code = codes[next_code]
  if code == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/bench/codes-exhausted")
  end
  next_code = next_code + 1
  return wrk.format("POST", "/token", headers,
    "grant_type=authorization_code&code=" .. code .. "&" .. rest)
end
