-- wrk script: every request authenticates a different client (client_secret_post),
-- so each one misses the verified-secret cache and pays for Argon2.
-- Env: COLD_CLIENTS (how many clients named cold-00000.. exist), COLD_SECRET.
local n = tonumber(os.getenv("COLD_CLIENTS") or "2000")
local secret = os.getenv("COLD_SECRET") or "cold-secret"
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"

request = function()
  i = i + 1
  local body = string.format("grant_type=client_credentials&client_id=cold-%05d&client_secret=%s", i % n, secret)
  return wrk.format(nil, nil, nil, body)
end

done = function(summary, latency, requests)
  local s = summary
  local errs = s.errors.connect + s.errors.read + s.errors.write + s.errors.timeout
  io.write(string.format(
    "WRKJSON {\"requests\":%d,\"duration_us\":%d,\"rps\":%.1f,\"non2xx\":%d,\"socket_errors\":%d," ..
    "\"lat_mean_us\":%.1f,\"lat_p50_us\":%d,\"lat_p90_us\":%d,\"lat_p99_us\":%d,\"lat_p999_us\":%d,\"lat_max_us\":%d}\n",
    s.requests, s.duration, s.requests / (s.duration / 1e6), s.errors.status, errs,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max))
end
