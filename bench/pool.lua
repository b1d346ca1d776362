-- wrk script for bench/run: replays a pool of pre-signed raw HTTP requests.
--
--   wrk -t T -s bench/pool.lua ... http://127.0.0.1:PORT/ -- POOL_FILE T
--
-- POOL_FILE holds complete HTTP/1.1 requests (request line, headers with
-- their OCI signature, body), each followed by one NUL byte; bench/bench.py
-- writes it with the real Python SDK signer right before the run. Thread k
-- of T sends requests k, k+T, k+2T, ... so no two threads send the same
-- signed request until the pool wraps around. Without POOL_FILE, every
-- request is wrk's default (GET of the URL's path): the bare axum runs.
--
-- done() prints one line, `BENCH {json}`: requests, duration (µs),
-- latency percentiles and mean (µs), socket errors and non-2xx/3xx answers
-- (wrk's errors.status), which bench.py parses.

-- setup() runs in wrk's main Lua state, init() and request() in each
-- thread's own state: the index is handed over with thread:set.
local started = 0
local counter = 0
local nthreads = 1

function setup(thread)
    thread:set("index", started)
    started = started + 1
end

function init(args)
    local path = args[1]
    nthreads = tonumber(args[2] or "1")
    if path == nil then
        return
    end
    local file = assert(io.open(path, "rb"))
    local data = file:read("*a")
    file:close()
    pool = {}
    local start = 1
    while true do
        local stop = string.find(data, "\0", start, true)
        if stop == nil then
            break
        end
        table.insert(pool, string.sub(data, start, stop - 1))
        start = stop + 1
    end
    assert(#pool > 0, "empty request pool " .. path)
    counter = index or 0
end

function request()
    if pool == nil then
        return wrk.format()
    end
    local r = pool[counter % #pool + 1]
    counter = counter + nthreads
    return r
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, ' ..
        '"mean_us": %.1f, "max_us": %d, "connect_errors": %d, "read_errors": %d, ' ..
        '"write_errors": %d, "timeouts": %d, "bad_status": %d}\n',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.mean, latency.max, e.connect, e.read, e.write,
        e.timeout, e.status))
end
