-- wrk script for scripts/bench-write.sh: one new record per request.
--
--   wrk -t2 -c64 -d20s --latency -s scripts/bench-write/append.lua http://127.0.0.1:PORT \
--       -- NAME AUTHORIZATION RUN
--
-- Every request is POST /registers/NAME/records with one item of the generated register
-- (fields synthetic, name, size, start-date, labels) under a key no other request uses
-- (W<run>-<thread>-<n>), so each appends exactly one entry. AUTHORIZATION is the whole header
-- value (`Bearer rwt_…` or `Basic …`). `done` prints one `BENCH ...` line as
-- scripts/bench-api/random.lua does; a non-2xx answer counts in err_status.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  name = args[1] or "synthetic"
  authorization = args[2] or ""
  run = args[3] or "0"
  counter = 0
  headers = { ["Content-Type"] = "application/json", ["Authorization"] = authorization }
  path = string.format("/registers/%s/records", name)
end

function request()
  counter = counter + 1
  local key = string.format("W%s-%d-%d", run, thread_id, counter)
  local body = string.format(
    '{"%s":"%s","name":"Written %d","size":"%d","start-date":"2024-01-%02d","labels":["w","t%d"]}',
    name, key, counter, counter, counter % 28 + 1, thread_id)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      .. "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.status, e.timeout))
end
