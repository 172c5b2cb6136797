-- Whole browserless flows for a signed-in browser whose user already granted the scopes,
-- with prompt=consent so that the consent page is shown and submitted. One flow is four
-- requests, all with the browser's kw_session cookie:
--   1. GET  /o/oauth2/v2/auth?...&prompt=consent  -> 303 /consent?req=HANDLE
--   2. GET  /consent?req=HANDLE                    -> 200, the form (its CSRF token, scopes)
--   3. POST /consent  req, csrf, scope..., action=allow -> 303 REDIRECT_URI?code=...
--   4. POST /token    grant_type=authorization_code     -> 200, the tokens
-- wrk gives a script no connection identity, so steps are not tied to a connection: each
-- response says which step it ends, the next step of that flow is queued, and whichever
-- connection asks for a request next takes the queue's head (or starts a new flow).
--   BENCH_PATH    the authorization request's path and query (with prompt=consent)
--   BENCH_COOKIE  the kw_session cookie
--   BENCH_BODY    the token request's form body after the code (redirect_uri, client creds)
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

local queue, head, tail = {}, 1, 0
local auth_req, cookie, token_rest

function init(args)
  cookie = "kw_session=" .. common.env("BENCH_COOKIE")
  token_rest = common.env("BENCH_BODY")
  auth_req = wrk.format("GET", common.env("BENCH_PATH"), { ["Cookie"] = cookie })
end

local function push(req)
  tail = tail + 1
  queue[tail] = req
end

function request()
  if head <= tail then
    local req = queue[head]
    queue[head] = nil
    head = head + 1
    return req
  end
  return auth_req
end

function response(status, headers, body)
  if status == 303 then
    local loc = common.header(headers, "Location") or ""
    local handle = string.match(loc, "^/consent%?req=([^&]+)")
    if handle then
      push(wrk.format("GET", "/consent?req=" .. handle, { ["Cookie"] = cookie }))
      return
    end
    local code = string.match(loc, "[?&]code=([^&]+)")
    if code then
      push(wrk.format("POST", "/token",
        { ["Content-Type"] = "application/x-www-form-urlencoded" },
        "grant_type=authorization_code&code=" .. code .. "&" .. token_rest))
      return
    end
  elseif status == 200 then
    local req = string.match(body, 'name="req" value="([^"]+)"')
    local csrf = string.match(body, 'name="csrf" value="([^"]+)"')
    if req and csrf then
      local form = { "req=" .. req, "csrf=" .. csrf, "action=allow" }
      for scope in string.gmatch(body, 'name="scope" value="([^"]+)"') do
        form[#form + 1] = "scope=" .. common.urlencode(scope)
      end
      push(wrk.format("POST", "/consent", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["Cookie"] = cookie,
      }, table.concat(form, "&")))
      return
    end
    if string.find(body, '"access_token"', 1, true) then
      completed = completed + 1
      return
    end
  end
  if status < 400 then bad = bad + 1 end
end
