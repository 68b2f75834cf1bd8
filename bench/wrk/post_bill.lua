-- POST /api/bills with one line of a product chosen at random among the first `products`.
-- Env: TAJIR_TOKEN, TAJIR_FIRST_PRODUCT, TAJIR_PRODUCTS.
local token = os.getenv("TAJIR_TOKEN")
local first = tonumber(os.getenv("TAJIR_FIRST_PRODUCT") or "1")
local count = tonumber(os.getenv("TAJIR_PRODUCTS") or "100")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  local id = first + math.random(0, count - 1)
  wrk.body = '{"items":[{"product_id":' .. id .. ',"quantity":1}],"payment_method":"cash"}'
  return wrk.format(nil, "/api/bills")
end
dofile(os.getenv("TAJIR_WRK_DIR") .. "/report.lua")
