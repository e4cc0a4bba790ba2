-- wrk script for bench/get_call.py.
--   wrk ... -s bench/wrk_get_call.lua URL -- PATH_OR_PREFIX [IDS_FILE SEED]
-- With IDS_FILE, every request is GET PATH_OR_PREFIX .. <random id from the file>;
-- without, every request is GET PATH_OR_PREFIX. done() prints the summary and the whole
-- latency histogram (microseconds) so the caller can merge rounds exactly.

local ids = {}
local target = "/"

function init(args)
  target = args[1]
  if args[2] ~= nil then
    for line in io.lines(args[2]) do
      if #line > 0 then
        ids[#ids + 1] = line
      end
    end
    math.randomseed(tonumber(args[3]) or 1)
  end
end

function request()
  if #ids > 0 then
    return wrk.format("GET", target .. ids[math.random(#ids)])
  end
  return wrk.format("GET", target)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCH summary %d %d %d %d %d %d %d %d\n",
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout))
  -- latency(i) is the i-th populated bucket; past the last one the value is 0.
  local i = 1
  while true do
    local value, count = latency(i)
    if value == nil or value == 0 or count == nil or count == 0 then
      break
    end
    io.write(string.format("BENCH lat %d %d\n", value, count))
    i = i + 1
  end
end
