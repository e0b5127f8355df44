-- wrk script of the load benchmark (tests/perf/bench_load.py).
-- Usage: wrk ... -s load.lua http://127.0.0.1:PORT -- PLAN_FILE
-- PLAN_FILE has one "path<TAB>cookie" line per request; every thread rotates through it
-- (starting at a different line), sends the Cookie header and X-Forwarded-Proto: https (the
-- production settings trust it as the TLS proxy's header) and counts the status codes.
-- done() prints "RESULT <key> <value>" lines that bench_load.py reads.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads)
  table.insert(threads, thread)
end

function init(args)
  plan = {}
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^([^\t]*)\t(.*)$")
    table.insert(plan, {path = path, cookie = cookie})
  end
  position = (thread_number * 7) % #plan
  statuses = {}
end

function request()
  position = position % #plan + 1
  local entry = plan[position]
  local headers = {["X-Forwarded-Proto"] = "https", ["Accept-Language"] = "de"}
  if entry.cookie ~= "" then
    headers["Cookie"] = entry.cookie
  end
  return wrk.format("GET", entry.path, headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local errors = summary.errors
  print(string.format("RESULT requests %d", summary.requests))
  print(string.format("RESULT duration_us %d", summary.duration))
  print(string.format("RESULT bytes %d", summary.bytes))
  for _, name in ipairs({"connect", "read", "write", "status", "timeout"}) do
    print(string.format("RESULT error_%s %d", name, errors[name]))
  end
  for _, p in ipairs({50, 90, 95, 99}) do
    print(string.format("RESULT latency_p%d_us %d", p, latency:percentile(p)))
  end
  print(string.format("RESULT latency_mean_us %d", latency.mean))
  print(string.format("RESULT latency_max_us %d", latency.max))
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + count
    end
  end
  for status, count in pairs(counts) do
    print(string.format("RESULT status_%s %d", tostring(status), count))
  end
end
