-- A till: post_bill.lua's bills, with a pause of TAJIR_TILL_PAUSE_MS (default 50) before each,
-- as a cashier scans.
dofile(os.getenv("TAJIR_WRK_DIR") .. "/post_bill.lua")
local pause = tonumber(os.getenv("TAJIR_TILL_PAUSE_MS") or "50")
delay = function() return pause end
