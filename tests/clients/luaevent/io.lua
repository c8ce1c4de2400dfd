-- TCP echo over loopback with read/write events, evbuffers and bufferevents (luaevent.core).
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local c = require "common"
local core = require "luaevent.core"
local socket = require "socket"
local say, now, within = c.say, c.now, c.within
local EV_READ, EV_WRITE, LEAVE = core.EV_READ, core.EV_WRITE, core.LEAVE

-- 1. the buffer object (evbuffer_new/add/add_buffer/pullup/readline/drain/free)
local b = core.buffer.new()
say("1. add -> %d, length %d, #b %d", b:add("hello ", "world", "\r\n"), b:length(), #b)
local b2 = core.buffer.new()
b2:add("line two\nline three\n\rtail")
say("1. add(buffer) -> %d; b2 now %d bytes", b:add(b2), b2:length())
say("1. get_data() %q", b:get_data())
say("1. get_data(5) %q, get_data(6, 5) %q, tostring %d bytes", b:get_data(5), b:get_data(6, 5), #tostring(b))
local lines = {}
for _ = 1, 5 do lines[#lines + 1] = tostring((b:readline())) end
say("1. readline x5: %s; left %q", table.concat(lines, "|"), b:get_data())
b:drain(2)
say("1. drain(2) leaves %q", b:get_data())
b:add(string.rep("x", 100000))
b:drain(99990)
say("1. 100000 added, 99990 drained: %d left", b:length())
b:close()
say("1. use after close: %s", select(2, pcall(b.length, b)):match("closed event_buffer") or "no error")

-- 2. echo server on raw events: one event per connection that switches between EV_READ and
-- EV_WRITE by returning the next kind (with a 10 s timeout that never fires), reading and
-- writing with buffer:read(sock)/buffer:write(sock) (evbuffer_read/evbuffer_write).
local base = core.new()
local add = c.adder(base)
local keep = {}  -- connections and buffers that must not be collected either
local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0)
local port = select(2, server:getsockname())
local accepted, server_closed, switches = 0, 0, 0
local listen_ev = add(server, EV_READ, function()
  local conn = server:accept()
  if not conn then return end
  conn:settimeout(0)
  accepted = accepted + 1
  local buf = core.buffer.new()
  keep[#keep + 1] = conn
  keep[#keep + 1] = buf
  add(conn, EV_READ, function(what)
    if what == core.EV_TIMEOUT then error("echo connection timed out") end
    if buf:length() == 0 then -- reading
      local n = buf:read(conn, 65536)
      if n == 0 then -- EOF
        conn:close(); server_closed = server_closed + 1
        return LEAVE
      end
      if n < 0 then return end
      switches = switches + 1
      return EV_WRITE, 10
    end
    local n = buf:write(conn)
    if n < 0 then error("write failed") end
    if buf:length() == 0 then return EV_READ, 10 end
  end)
end)

-- clients: non-blocking connect; a write event sends the data in 1000-byte chunks as the
-- socket takes them (then leaves), a read event on the same socket takes the echo
local NCLIENTS, SIZE = 6, 300000
local results = {}
local function pattern(i, n)
  local parts, k = {}, 0
  while k < n do
    local s = string.format("%d:%08d;", i, k)
    parts[#parts + 1] = s
    k = k + #s
  end
  return table.concat(parts):sub(1, n)
end
local t0 = now()
for i = 1, NCLIENTS do
  local data = pattern(i, SIZE + i * 1111)
  local s = socket.tcp()
  s:settimeout(0)
  s:connect("127.0.0.1", port)
  keep[#keep + 1] = s
  local sent, got, nreceived = 0, {}, 0
  add(s, EV_WRITE, function()
    local ok, err, partial = s:send(data, sent + 1, math.min(sent + 1000, #data))
    sent = ok or partial or sent
    if sent == #data then return LEAVE end
  end)
  add(s, EV_READ, function()
    local chunk, err, partial = s:receive(65536)
    chunk = chunk or partial
    if chunk and #chunk > 0 then
      got[#got + 1] = chunk
      nreceived = nreceived + #chunk
    end
    if nreceived >= #data or err == "closed" then
      results[i] = (table.concat(got) == data) and ("ok " .. #data) or ("MISMATCH " .. nreceived .. "/" .. #data)
      s:close()
      return LEAVE
    end
  end)
end
-- a watchdog closes the listener when all clients are done (or after 20 s)
local watchdog
watchdog = add(nil, core.EV_TIMEOUT, function()
  local done = 0
  for i = 1, NCLIENTS do if results[i] then done = done + 1 end end
  if (done == NCLIENTS and server_closed == NCLIENTS) or now() - t0 > 20 then
    listen_ev:close()
    return LEAVE
  end
end, 0.01)
say("2. loop returned %s", tostring(base:loop()))
for i = 1, NCLIENTS do say("2. client %d: %s", i, tostring(results[i])) end
say("2. server accepted %d, saw EOF on %d, switched to writing %s", accepted, server_closed,
    switches >= NCLIENTS and ">= once per connection" or tostring(switches))
server:close()

-- 4. I/O events with timeouts on an idle socket (luaevent re-adds an event with its stored
-- timeout when a callback returns another kind; a zero timeout is "due at once"):
--   a. EV_READ with timeout 0, callback returns nothing: fires once (EV_TIMEOUT), and as its
--      persistent re-arm has no interval, it is no longer pending at all;
--   b. the same, callback returns EV_READ, 0: re-added with a zero timeout every time;
--   c. EV_READ with a 10 ms timeout, callback returns EV_READ: fires again and again;
--   d. EV_READ with timeout 0, callback returns EV_WRITE on a writable socket: the timeout and
--      the readiness are due in the same pass; every callback sees EV_TIMEOUT (Debian's
--      libevent reports EV_TIMEOUT alone, reevent EV_TIMEOUT|EV_WRITE: docs/semantics-core.md,
--      "a timeout expiring on an already active event", libevent #1530).
local base4 = core.new()
local keep4 = {}
local server4 = assert(socket.bind("127.0.0.1", 0))
local port4 = select(2, server4:getsockname())
local function idle_pair()
  local s = socket.tcp()
  s:settimeout(5)
  assert(s:connect("127.0.0.1", port4))
  local p = assert(server4:accept())
  keep4[#keep4 + 1] = s
  keep4[#keep4 + 1] = p
  return p
end
local seen = {}
local function variant(name, kind, timeout, ret)
  seen[name] = {}
  keep4[#keep4 + 1] = base4:addevent(idle_pair(), kind, function(what)
    local t = seen[name]
    t[#t + 1] = what
    if #t > 50 then return LEAVE end
    return ret()
  end, timeout)
end
variant("a", EV_READ, 0, function() end)
variant("b", EV_READ, 0, function() return EV_READ, 0 end)
variant("c", EV_READ, 0.01, function() return EV_READ end)
variant("d", EV_READ, 0, function() return EV_WRITE end)
base4:loopexit(0.1)
say("4. loop returned %s", tostring(base4:loop()))
say("4a. fired %d time(s), what=%s", #seen.a, tostring(seen.a[1]))
say("4b. fired %s", #seen.b > 50 and "more than 50 times (then LEAVE)" or tostring(#seen.b))
say("4c. fired %s, first what=%s", #seen.c >= 2 and "more than once" or tostring(#seen.c), tostring(seen.c[1]))
local all_timeout = #seen.d > 50
for _, w in ipairs(seen.d) do if w & core.EV_TIMEOUT == 0 then all_timeout = false end end
say("4d. fired more than 50 times, each with EV_TIMEOUT: %s", tostring(all_timeout))
server4:close()

-- 3. bufferevents. luaevent 0.4.6 cannot run a bufferevent callback: its handle_callback
-- looks the Lua object up in a weak table that nothing fills and raises "attempt to index a
-- nil value" through the event loop (Debian's libevent then crashes). So the objects are
-- exercised without ever letting a callback fire: bufferevent_new on the current base (the
-- newest core.new()), the input/output buffers from the public struct, watermarks, timeouts,
-- enable/disable, and bufferevent_free when Lua collects the object.
local base3 = core.new()
local server3 = assert(socket.bind("127.0.0.1", 0))
local port3 = select(2, server3:getsockname())
local client = socket.tcp()
client:settimeout(5)
assert(client:connect("127.0.0.1", port3))
local peer = assert(server3:accept())
local function never() error("a bufferevent callback ran") end
local be = core.bufferevent.new(base3, client, never, never, never)
local rb, wb = be:get_read(), be:get_write()
say("3. new bufferevent: input %d bytes, output %d bytes, distinct: %s", rb:length(), wb:length(), tostring(rb ~= wb))
say("3. disable(EV_WRITE) -> %s, disable(EV_READ) -> %s", tostring(be:disable(EV_WRITE)), tostring(be:disable(EV_READ)))
be:set_read_watermarks(10, 1000)
be:set_write_watermarks(0, 0)
be:set_timeouts(1, 1)
say("3. output:add -> %d bytes queued (writing disabled)", wb:add("queued but never written\n"))
-- with both directions disabled nothing is pending for the bufferevent: a loop with only a
-- loopexit returns after it, and the peer has received nothing
t0 = now()
base3:loopexit(0.05)
say("3. loop returned %s after %s", tostring(base3:loop()), within(now() - t0, 0.05, 0.6))
peer:settimeout(0)
local got, err = peer:receive(1)
say("3. peer received %s (%s)", tostring(got), tostring(err))
-- collecting the bufferevent frees it; its buffers, still referenced here, become closed
be = nil
collectgarbage()
collectgarbage()
say("3. after collection the input buffer is %s, the output buffer is %s",
    select(2, pcall(rb.length, rb)):match("closed event_buffer") and "closed" or "open",
    select(2, pcall(wb.length, wb)):match("closed event_buffer") and "closed" or "open")
peer:close()
client:close()
c.finish()
