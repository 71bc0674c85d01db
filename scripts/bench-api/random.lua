-- wrk script for scripts/bench-api.sh: every request picks a random target.
--
--   wrk -t2 -c64 -d20s --latency -s scripts/bench-api/random.lua http://127.0.0.1:PORT \
--       -- MODE NAME ENTRIES KEYS
--
-- MODE is one of
--   record  GET /registers/NAME/records/K#######.json          (key 0..KEYS-1)
--   entries GET /registers/NAME/entries?start=S&limit=100       (S 1..ENTRIES-99)
--   proof   GET /registers/NAME/proof/entry/N/ENTRIES/merkle:sha-256 (N 1..ENTRIES)
--   mixed   one of the three above, chosen at random per request
--
-- Each wrk thread seeds its own generator (thread number and clock), so threads do not
-- replay one another's sequence. `done` prints one machine-readable `BENCH ...` line that
-- bench-api.sh parses; wrk's own report (with --latency) comes before it.

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  mode = args[1] or "record"
  name = args[2] or "synthetic"
  entries = tonumber(args[3] or "1000000")
  keys = tonumber(args[4] or "200000")
  if mode ~= "record" and mode ~= "entries" and mode ~= "proof" and mode ~= "mixed" then
    error("unknown mode " .. mode .. " (record, entries, proof or mixed)")
  end
  math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
  -- LuaJIT's first draws after seeding are poorly mixed; discard a few.
  for _ = 1, 10 do math.random() end
end

local function record_path()
  return string.format("/registers/%s/records/K%07d.json", name, math.random(0, keys - 1))
end

local function entries_path()
  local last = math.max(entries - 99, 1)
  return string.format("/registers/%s/entries?start=%d&limit=100", name, math.random(1, last))
end

local function proof_path()
  return string.format("/registers/%s/proof/entry/%d/%d/merkle:sha-256",
    name, math.random(1, entries), entries)
end

local paths = { record = record_path, entries = entries_path, proof = proof_path }
local mixed = { record_path, entries_path, proof_path }

function request()
  local path
  if mode == "mixed" then
    path = mixed[math.random(1, 3)]()
  else
    path = paths[mode]()
  end
  return wrk.format("GET", path)
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
