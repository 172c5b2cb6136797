-- One fixed request, sent over and over: GET /hello, POST /token (ceiling), refresh grants,
-- tokeninfo, introspection. No response() callback, so wrk stays as fast as it can be;
-- wrk counts responses >= 400 as errors, and bench/run checks one response before the load.
--   BENCH_METHOD  GET or POST
--   BENCH_PATH    path and query
--   BENCH_BODY    form body (POST)
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")

wrk.method = common.env("BENCH_METHOD")
wrk.path = common.env("BENCH_PATH")
if wrk.method == "POST" then
  wrk.body = common.env("BENCH_BODY")
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
