-- GET with the bearer token in TAJIR_TOKEN; the path comes from wrk's URL.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TAJIR_TOKEN")
dofile(os.getenv("TAJIR_WRK_DIR") .. "/report.lua")
