-- POST a 1 MiB body in chunked framing, 64 chunks of 16 KiB (bench/run.mjs, workload upload-chunked).
-- The whole request is built once: wrk.format would add a Content-Length.
local piece = string.rep("u", 16384)
local chunks = {}
for i = 1, 64 do chunks[i] = "4000\r\n" .. piece .. "\r\n" end
local raw = "POST /upload HTTP/1.1\r\nHost: bench.local\r\nContent-Type: application/octet-stream\r\n" ..
  "Transfer-Encoding: chunked\r\n\r\n" .. table.concat(chunks) .. "0\r\n\r\n"
request = function() return raw end
