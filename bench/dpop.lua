-- wrk script: POST client_credentials token requests (Basic) with a
-- different pre-signed DPoP proof each (servers accept one only once).
-- Env: WRK_PROOFS file with one proof a line (bench/make-proofs.py)
--      WRK_AUTHZ  the Authorization header value
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local n = #threads > 0 and #threads or 1
  local me = tonumber(id or 0)
  lines, i = {}, 0
  local k = 0
  for line in io.lines(os.getenv("WRK_PROOFS")) do
    if k % n == me then lines[#lines + 1] = line end
    k = k + 1
  end
  authz = os.getenv("WRK_AUTHZ")
end

function request()
  i = i + 1
  if i > #lines then i = 1 end -- replays from here on: the run was longer than the file
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = authz,
    ["DPoP"] = lines[i],
  }, "grant_type=client_credentials&scope=api1")
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
