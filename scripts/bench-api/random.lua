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
--   checkpoint GET /registers/NAME/checkpoint
--   tile    GET /registers/NAME/tile/0/N    (a random full level-0 tile)
--   bundle  GET /registers/NAME/tile/entries/N (a random full entry bundle)
--   page    GET /registers/NAME/records/K####### with a browser's Accept: the record's page
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
  local known = { record = 1, entries = 1, proof = 1, mixed = 1, checkpoint = 1, tile = 1, bundle = 1, page = 1 }
  if not known[mode] then
    error("unknown mode " .. mode .. " (record, entries, proof, mixed, checkpoint, tile, bundle or page)")
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

-- tlog-tiles' index path: 3-digit groups, all but the last prefixed with x.
local function tile_index(n)
  local path = string.format("%03d", n % 1000)
  n = math.floor(n / 1000)
  while n > 0 do
    path = string.format("x%03d/", n % 1000) .. path
    n = math.floor(n / 1000)
  end
  return path
end

local function full_tiles()
  return math.max(math.floor(entries / 256), 1)
end

local function checkpoint_path()
  return string.format("/registers/%s/checkpoint", name)
end

local function tile_path()
  return string.format("/registers/%s/tile/0/%s", name, tile_index(math.random(0, full_tiles() - 1)))
end

local function bundle_path()
  return string.format("/registers/%s/tile/entries/%s", name,
    tile_index(math.random(0, full_tiles() - 1)))
end

-- What Chromium sends for a page.
local BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

local function page_path()
  return string.format("/registers/%s/records/K%07d", name, math.random(0, keys - 1))
end

local paths = {
  record = record_path, entries = entries_path, proof = proof_path,
  checkpoint = checkpoint_path, tile = tile_path, bundle = bundle_path, page = page_path,
}
local mixed = { record_path, entries_path, proof_path }

function request()
  local path
  if mode == "mixed" then
    path = mixed[math.random(1, 3)]()
  elseif mode == "page" then
    return wrk.format("GET", page_path(), { Accept = BROWSER })
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
