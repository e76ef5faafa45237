-- wrk script: GET with the three headers the headers workload reads
wrk.headers["X-Bench-A"] = "alpha"
wrk.headers["X-Bench-B"] = "beta"
wrk.headers["User-Agent"] = "wrk"
