-- wrk script: POST /v1/bookings with windows that never conflict.
--
-- [BENCH_RATE=R] wrk -t T -c C -d D --latency -s bench/load.lua URL -- ROOMS_FILE TOKEN \
--     BASE_EPOCH SLOT_SECONDS THREADS MAX_PER_THREAD [GAP_SECONDS] [ROOMS_PER_REQUEST]
--
-- ROOMS_FILE   one room id per line
-- BASE_EPOCH   first window start (UTC seconds); SLOT_SECONDS the slot length
-- GAP_SECONDS  (default 0) each window ends this long before the next slot starts, so
--              rooms with a buffer of at most GAP_SECONDS accept every window
-- THREADS      the -t value: thread k sends request numbers k, k+T, k+2T, ... so every
--              request of the run has its own number i; room = rooms[i % #rooms],
--              window = BASE + (i // #rooms) * SLOT: distinct (room, window) per request.
-- ROOMS_PER_REQUEST  (default 1) with 2, request i books a pair of rooms: in round
--              r = i // (#rooms/2), pair k = i % (#rooms/2) is rooms 2k and 2k + d (mod
--              #rooms, d = 2r+1: odd, so each round's pairs share no room) at window
--              BASE + r * SLOT. No two requests conflict, and the pairs change every
--              round, so each room's requests name every other room in turn.
-- BENCH_RATE   (environment) requests/s for the whole run; unset: as fast as possible.
--              Paced runs give each thread a schedule (one send every THREADS/RATE s)
--              and delay() holds each connection until the thread's next free slot, so
--              the rate does not depend on the response time as long as C/T
--              connections cover the latency. (wrk decides whether delay() exists
--              before init() sees the arguments, hence the environment variable.)
-- MAX_PER_THREAD  a thread stops after this many responses (bounds the backlog).
--
-- done() prints one line: WRK_JSON {...} (requests, non-202 answers, socket errors,
-- latency percentiles in microseconds).

local ffi_ok, ffi = pcall(require, "ffi")
if ffi_ok then
  ffi.cdef([[
    typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
    int clock_gettime(int clk_id, bench_timespec *tp);
  ]])
end
local ts = ffi_ok and ffi.new("bench_timespec") or nil

local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  rooms = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      rooms[#rooms + 1] = line
    end
  end
  base = tonumber(args[3])
  slot = tonumber(args[4])
  nthreads = tonumber(args[5])
  cap = tonumber(args[6])
  gap = tonumber(args[7] or "0")
  per_request = tonumber(args[8] or "1")
  sent = 0
  responses = 0
  non202 = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. args[2]
end

local function iso(epoch)
  return os.date("!%Y-%m-%dT%H:%M:%SZ", epoch)
end

function request()
  local i = id + sent * nthreads
  sent = sent + 1
  local room = rooms[(i % #rooms) + 1]
  if per_request > 1 then
    local pairs = math.floor(#rooms / 2)
    local round = math.floor(i / pairs)
    local k = i % pairs
    local d = (2 * round + 1) % #rooms
    local start = base + round * slot
    local body = string.format(
      '{"room_ids":["%s","%s"],"start_time":"%s","end_time":"%s","title":"bench %d"}',
      rooms[2 * k + 1], rooms[((2 * k + d) % #rooms) + 1], iso(start),
      iso(start + slot - gap), i
    )
    return wrk.format(nil, "/v1/bookings", nil, body)
  end
  local start = base + math.floor(i / #rooms) * slot
  local body = string.format(
    '{"room_id":"%s","start_time":"%s","end_time":"%s","title":"bench %d"}',
    room, iso(start), iso(start + slot - gap), i
  )
  return wrk.format(nil, "/v1/bookings", nil, body)
end

local rate = tonumber(os.getenv("BENCH_RATE") or "0")

if rate > 0 then
  assert(ffi_ok, "paced runs need LuaJIT's ffi (clock_gettime)")
  function delay()
    local interval = 1000 * nthreads / rate -- ms between this thread's sends
    local now = now_ms()
    if next_at == nil then
      next_at = now + interval * id / nthreads -- stagger the threads
    end
    local wait = next_at - now
    next_at = next_at + interval
    if wait < 0 then
      return 0
    end
    return math.floor(wait)
  end
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 202 then
    non202 = non202 + 1
    if non202 <= 3 then
      io.stderr:write(string.format("thread %d: HTTP %d %s\n", id, status, body))
    end
  end
  if responses >= cap then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, sent_total = 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non202")
    sent_total = sent_total + thread:get("sent")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"sent":%d,"duration_us":%d,"non202":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d},"paced":%s}\n',
    summary.requests, sent_total, summary.duration, bad,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    tostring(rate > 0)
  ))
end
