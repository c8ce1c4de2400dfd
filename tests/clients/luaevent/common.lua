-- Shared helpers of the luaevent scripts (run by ../luaevent_test.py with lua5.4).
local M = {}
local socket = require "socket"

M.now = socket.gettime
io.stdout:setvbuf("line")

function M.say(fmt, ...)
  io.write(string.format(fmt, ...), "\n")
end

-- "ok" when t is in [lo - 12 ms, hi]: timers never fire early, and late by at most `hi` on
-- a loaded machine. The 12 ms: the wall clock against libevent's CLOCK_MONOTONIC_COARSE
-- (4 ms steps at HZ=250), and a timer re-added from its callback counts from the loop's
-- cached time, up to one step old, so by the third fire of a series the system libevent
-- was seen 5.0 ms early (a loaded machine, 2026-12-07).
function M.within(t, lo, hi)
  if t >= lo - 0.012 and t <= hi then return "ok" end
  return string.format("off (%.3f s, want %.3f..%.3f)", t, lo, hi)
end

-- Which libevent this process maps, for the test harness (not part of the output).
function M.report_maps()
  local path = os.getenv("LUAEVENT_MAPS_OUT")
  if not path then return end
  local seen, out = {}, assert(io.open(path, "w"))
  for line in io.lines("/proc/self/maps") do
    local file = line:match("(/%S*libevent%S*)$")
    if file and not seen[file] then seen[file] = true; out:write(file, "\n") end
  end
  out:close()
end

function M.pid()
  local f = assert(io.open("/proc/self/stat"))
  local pid = f:read("*l"):match("^(%d+)")
  f:close()
  return pid
end

-- An add(...) for base: base:addevent(...) that also keeps the event. An event object that
-- Lua collects is deleted (its __gc calls event_del), so a script keeps them all.
function M.adder(base)
  local keep = {}
  return function(...)
    local ev = base:addevent(...)
    keep[#keep + 1] = ev
    return ev
  end
end

-- Ends the script without lua_close(): luaevent 0.4.6 frees a bufferevent's evbuffers
-- twice when the state is closed (its buffer objects may be collected before the
-- bufferevent; Debian's libevent asserts), so a script never closes its Lua state.
function M.finish()
  io.stdout:flush()
  os.exit(0, false)
end

return M
