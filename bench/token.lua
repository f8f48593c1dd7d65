-- wrk script: the quickstart token request (client_secret_basic), with a
-- machine-readable summary line.
wrk.method = "POST"
wrk.body = "grant_type=client_credentials&scope=api1"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic Y2xpZW50OnNlY3JldA==" -- client:secret

done = function(summary, latency, requests)
  local s = summary
  local errs = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"rps\":%.1f,\"non2xx\":%d,\"socket_errors\":%d,\"lat_p99_us\":%d}\n",
    s.requests, s.requests / (s.duration / 1e6), s.errors.status, errs, latency:percentile(99)))
end
