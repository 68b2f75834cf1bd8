-- A cold dashboard, over and over: each GET /api/dashboard follows a POST /api/cache/clear of
-- the shop's dashboard, so every dashboard read is computed from the database. Only the GETs'
-- latencies are the figure (the clears are quick). Env: TAJIR_TOKEN.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TAJIR_TOKEN")
wrk.headers["Content-Type"] = "application/json"
local clear = true
request = function()
  clear = not clear
  if not clear then
    return wrk.format("POST", "/api/cache/clear", nil, '{"types":["dashboard"]}')
  end
  return wrk.format("GET", "/api/dashboard")
end
dofile(os.getenv("TAJIR_WRK_DIR") .. "/report.lua")
