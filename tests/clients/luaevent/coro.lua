-- luaevent.lua's coroutine layer (addserver, addthread, connect, send, receive, wrap) on the
-- module's own base: a line server that answers in upper case, and clients in coroutines.
package.path = (arg[0]:match("^(.*/)") or "./") .. "?.lua;" .. package.path
local c = require "common"
local luaevent = require "luaevent"
local socket = require "socket"
local say = c.say

say("luaevent %s (%s)", luaevent._VERSION, luaevent._NAME)
local server = assert(socket.bind("127.0.0.1", 0))
server:settimeout(0)
local port = select(2, server:getsockname())
luaevent.addserver(server, function(sock)
  local lines = 0
  while true do
    local line, err = luaevent.receive(sock, "*l")
    if not line then break end
    lines = lines + 1
    luaevent.send(sock, line:upper() .. "\n")
  end
  -- close through the wrapper: it closes the socket's event first (a closed fd left in
  -- poll's or select's set would fire, resuming a finished coroutine)
  luaevent.wrap(sock):close()
end)

local NCLIENTS, NLINES = 4, 25
local finished, report = 0, {}
for i = 1, NCLIENTS do
  luaevent.addthread(function()
    local s = socket.tcp()
    local ok, err = luaevent.connect(s, "127.0.0.1", port)
    local wrapped = luaevent.wrap(s)
    local good = 0
    for k = 1, NLINES do
      -- a long line now and then, bigger than a socket buffer takes at once
      local line = string.format("client %d line %d %s", i, k, string.rep("ab", k == 13 and 400000 or k))
      wrapped:send(line .. "\n")
      local back = wrapped:receive("*l")
      if back == line:upper() then good = good + 1 end
    end
    report[i] = string.format("client %d: connect %s, %d/%d lines answered exactly", i, tostring(ok), good, NLINES)
    wrapped:close()
    finished = finished + 1
    if finished == NCLIENTS then
      for k = 1, NCLIENTS do say("%s", report[k]) end
      -- luaevent.loop() would not return while the listener is registered: end here
      c.finish()
    end
  end)
end
luaevent.loop()
say("loop returned")
c.finish()
