-- wrk script: one JSON line with the figures bench/ needs (latencies in microseconds).
-- An optional argument (after `--`) is a pipeline depth: each connection then sends that
-- many requests at once and waits for all their answers (wrk counts each answer as a
-- request, but times only batches: its latency percentiles are then meaningless).
-- Without it no `request` function is defined, so wrk builds its request once (a script
-- with one makes every request a Lua call, a cost on the client the other cases would pay).
init = function(args)
  local depth = tonumber(args[1] or "1") or 1
  if depth > 1 then
    local batch = string.rep(wrk.format(nil, wrk.path), depth)
    request = function()
      return batch
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99)))
end
