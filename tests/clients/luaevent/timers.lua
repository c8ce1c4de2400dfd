-- Timers, removal, loopexit and loopbreak, signals, through luaevent.core.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local c = require "common"
local core = require "luaevent.core"
local say, now, within = c.say, c.now, c.within

say("libevent_version %s", core.libevent_version())
local base = core.new()
local add = c.adder(base)
say("method %s", base:method())
c.report_maps()
say("constants EV_TIMEOUT=%d EV_READ=%d EV_WRITE=%d EV_SIGNAL=%d EV_PERSIST=%d LEAVE=%d",
    core.EV_TIMEOUT, core.EV_READ, core.EV_WRITE, core.EV_SIGNAL, core.EV_PERSIST, core.LEAVE)

-- 1. one-shot timers fire in deadline order, not in the order they were added
local t0 = now()
local fired = {}
for _, ms in ipairs({60, 20, 40, 10, 30}) do
  add(nil, core.EV_TIMEOUT, function(what)
    fired[#fired + 1] = string.format("%dms(what=%d,%s)", ms, what, within(now() - t0, ms / 1000, ms / 1000 + 0.5))
    return core.LEAVE
  end, ms / 1000)
end
say("1. loop returned %s (no events left)", tostring(base:loop()))
say("1. one-shot order: %s", table.concat(fired, " "))

-- 2. repeating timers (libevent schedules each run from the previous deadline, so only the
-- deadlines are checked); one changes its interval from its callback
t0 = now()
local a, b = {}, {}
add(nil, core.EV_TIMEOUT, function()
  a[#a + 1] = now() - t0
  if #a == 5 then return core.LEAVE end
end, 0.02)
add(nil, core.EV_TIMEOUT, function()
  b[#b + 1] = now() - t0
  if #b == 2 then return core.EV_TIMEOUT, 0.01 end -- from now on every 10 ms
  if #b == 5 then return core.LEAVE end
end, 0.03)
say("2. loop returned %s", tostring(base:loop()))
local function series(ts, want)
  local r = {}
  for i, t in ipairs(ts) do r[i] = within(t, want[i], want[i] + 0.5) end
  return #ts .. " fires: " .. table.concat(r, ",")
end
say("2. every 20 ms: %s", series(a, {0.02, 0.04, 0.06, 0.08, 0.10}))
say("2. 30 ms then 10 ms: %s", series(b, {0.03, 0.06, 0.07, 0.08, 0.09}))

-- 3. removal: a callback closes another pending timer, and one closes itself
local victim_ran, self_count = false, 0
local victim = add(nil, core.EV_TIMEOUT, function() victim_ran = true; return core.LEAVE end, 0.05)
add(nil, core.EV_TIMEOUT, function() victim:close(); return core.LEAVE end, 0.02)
local selfclose
selfclose = add(nil, core.EV_TIMEOUT, function()
  self_count = self_count + 1
  selfclose:close()
  return core.EV_TIMEOUT, 0.001 -- ignored: the event is gone
end, 0.01)
t0 = now()
say("3. loop returned %s after %s", tostring(base:loop()), within(now() - t0, 0.02, 0.5))
say("3. closed timer ran: %s; self-closing timer ran %d time(s)", tostring(victim_ran), self_count)

-- 4. loopexit with a timeout ends a loop that still has a persistent timer
local ticks = 0
local ticker = add(nil, core.EV_TIMEOUT, function() ticks = ticks + 1 end, 0.01)
t0 = now()
say("4. loopexit(0.08) -> %d", base:loopexit(0.08))
say("4. loop returned %s after %s, ticks %s", tostring(base:loop()), within(now() - t0, 0.08, 0.6),
    (ticks >= 1 and ticks <= 9) and "1..9" or tostring(ticks)) -- a loaded machine may stall it
local before = ticks
base:loopexit(0.035)
base:loop()
say("4. the ticker goes on in the next loop: %s", ticks > before and "yes" or "no")
ticker:close()
say("4. loop with no events returns %s at once", tostring(base:loop()))

-- 5. an error in a callback breaks the loop (event_base_loopbreak); pending events stay
local late = 0
local boom
boom = add(nil, core.EV_TIMEOUT, function() boom:close(); error("boom from a timer") end, 0.01)
add(nil, core.EV_TIMEOUT, function() late = late + 1; return core.LEAVE end, 0.06)
t0 = now()
local ok, err = pcall(base.loop, base)
say("5. loop raised: %s %s; took %s; later timer ran %d", tostring(ok), tostring(err):match("boom from a timer") or tostring(err),
    within(now() - t0, 0.01, 0.5), late)
say("5. next loop returned %s; later timer ran %d", tostring(base:loop()), late)

-- 6. signals: SIGUSR1 (10) as an EV_SIGNAL event, raised by kill(1) from timers; a guard
-- timer ends the loop should a signal be lost, and is closed by the second delivery
local pid, got, what_seen = c.pid(), 0, nil
local guard = add(nil, core.EV_TIMEOUT, function() base:loopexit(0); return core.LEAVE end, 4)
add(10, core.EV_SIGNAL, function(what)
  got = got + 1
  what_seen = what
  if got == 2 then guard:close(); return core.LEAVE end
end)
local sent = 0
add(nil, core.EV_TIMEOUT, function()
  sent = sent + 1
  os.execute("kill -USR1 " .. pid)
  if sent == 2 then return core.LEAVE end
end, 0.03)
t0 = now()
say("6. loop returned %s after %s", tostring(base:loop()), within(now() - t0, 0.06, 3.5))
say("6. SIGUSR1 delivered %d time(s), what=%s", got, tostring(what_seen))

-- 7. timer callbacks may add events; a zero timeout fires on the next loop pass
local order = {}
add(nil, core.EV_TIMEOUT, function()
  order[#order + 1] = "parent"
  add(nil, core.EV_TIMEOUT, function() order[#order + 1] = "child 0s"; return core.LEAVE end, 0)
  add(nil, core.EV_TIMEOUT, function() order[#order + 1] = "child 20ms"; return core.LEAVE end, 0.02)
  return core.LEAVE
end, 0.01)
say("7. loop returned %s: %s", tostring(base:loop()), table.concat(order, ", "))
c.finish()
