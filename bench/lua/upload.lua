-- POST a 1 MiB body on every request (bench/run.mjs, workload upload-1m).
wrk.method = "POST"
wrk.path = "/upload"
wrk.body = string.rep("u", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
