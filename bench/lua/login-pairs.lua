-- getchallenge + login pairs over one connection per wrk thread (run with -t N -c N): each thread alternates
-- GET getchallenge and POST login with md5(token .. key). The bench sets `users` (a Lua table of
-- {username, key}, one per thread, or one for all) before this file. Counts successful logins per thread.
local threads = {}
local next_user = 0

function setup(thread)
  next_user = next_user % #users + 1
  thread:set("who", next_user)
  table.insert(threads, thread)
end

ok, failed = 0, 0
local token = nil
local username, key

function init()
  username, key = users[who][1], users[who][2]
end

function request()
  if token == nil then
    return wrk.format("GET", "/webservice.php?operation=getchallenge&username=" .. username)
  end
  return wrk.format("POST", "/webservice.php", { ["Content-Type"] = "application/x-www-form-urlencoded" },
    "operation=login&username=" .. username .. "&accessKey=" .. md5(token .. key))
end

function response(status, headers, body)
  if token == nil then
    token = body:match('"token":"([^"]+)"')
    if token == nil then failed = failed + 1 end
  else
    token = nil
    if status == 200 and body:find('"success":true', 1, true) then ok = ok + 1 else failed = failed + 1 end
  end
end

function done(summary, latency, requests)
  local o, f = 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    f = f + t:get("failed")
  end
  io.write(string.format('JSON {"ok":%d,"failed":%d,"duration_us":%d,"p50":%d,"p99":%d}\n', o, f,
    summary.duration, latency:percentile(50), latency:percentile(99)))
end
