-- wrk script: keep-alive POSTs alternating /start and /finish of one run, over ~1,000 jobs
-- (bench-0 … bench-999), each run with its own id. Token from $JOBMOND_TOKEN. With
-- HEALTHZ=1 it only prints the summary (the /healthz baseline uses the same `done`).
local token = os.getenv("JOBMOND_TOKEN") or "bench-token"
local jobs = tonumber(os.getenv("JOBS") or "1000")
local healthz = os.getenv("HEALTHZ") == "1"
local threads = {}
local next_id = 0

function setup(thread)
   thread:set("tid", next_id)
   next_id = next_id + 1
   table.insert(threads, thread)
end

local n = 0
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }

function request()
   if healthz then return wrk.format("GET", "/healthz") end
   local run = math.floor(n / 2)
   local job = "bench-" .. ((run * 7 + tid) % jobs)
   local id = "t" .. tid .. "-" .. run
   local path, body
   if n % 2 == 0 then
      path = "/api/v1/jobs/" .. job .. "/runs/" .. id .. "/start"
      body = '{"host":"bench' .. tid .. '","pid":' .. (1000 + run % 30000) .. ',"fence":' .. (run + 1) .. ',"command":"true"}'
   else
      path = "/api/v1/jobs/" .. job .. "/runs/" .. id .. "/finish"
      body = '{"host":"bench' .. tid .. '","exit_code":0,"duration_ms":' .. (run % 997) .. ',"outcome":"success"}'
   end
   n = n + 1
   return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'WRKJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
      '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
      e.connect, e.read, e.write, e.status, e.timeout))
end
