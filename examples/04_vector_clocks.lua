-- 04_vector_clocks.lua - vector clocks as message passing: each node counts
-- its own events and learns the others' counts from the messages it gets.
--
-- Run from the top of the source tree:
--   LUA_CPATH='build/?.so' lua5.4 examples/04_vector_clocks.lua
local vv = require "vv"

print("A vector clock maps each node to a counter: how many of that node's")
print("events we know about. Two nodes, A and B, start knowing nothing.")
local a = vv.clock()
local b = vv.clock()
print("  A = " .. tostring(a) .. ", B = " .. tostring(b))

print()
print("A does something (a write): it ticks its own counter.")
a:tick("A")
print("  A = " .. tostring(a))
print("A sends a message to B and puts a copy of its clock in it.")
local msg = a:copy()
print("  message carries " .. tostring(msg))

print()
print("B receives it: B merges the clock it got (taking the larger counter")
print("for every node) and ticks its own counter for the receive event.")
b:merge(msg):tick("B")
print("  B = " .. tostring(b))
print("  compare(message, B) = " .. vv.compare(msg, b) ..
  "   (B has seen everything A had when it sent)")
print("  message < B is " .. tostring(msg < b))

print()
print("B replies to A; A merges and ticks in the same way.")
a:merge(b:copy()):tick("A")
print("  A = " .. tostring(a))
print("  compare(B, A) = " .. vv.compare(b, a))

print()
print("Now the seed's example: two versions written on different replicas")
print("without either seeing the other.")
local v1 = vv.clock { s0 = 1 }
local v2 = vv.clock "{s1:1}"       -- the text form works too
print("  v1 = " .. tostring(v1))
print("  v2 = " .. tostring(v2))
print("  compare(v1, v2) = " .. vv.compare(v1, v2))
print("  v1 < v2 is " .. tostring(v1 < v2) ..
  ", v2 < v1 is " .. tostring(v2 < v1))
print("Neither clock is below the other: the versions have different")
print("histories, so they are concurrent - a conflict a database must keep")
print("(both versions) rather than guess, whatever their timestamps say.")

print()
print("A write that saw both merges their clocks and ticks:")
local v3 = v1:copy():merge(v2):tick("s0")
print("  v3 = " .. tostring(v3))
print("  compare(v1, v3) = " .. vv.compare(v1, v3) ..
  ", compare(v2, v3) = " .. vv.compare(v2, v3))
print("v3 comes after both, so it may replace both.")

print()
print("Clocks travel as compact bytes too:")
local bin = v3:encode()
print(string.format("  %d bytes; decoded back: %s (equal: %s)", #bin,
  tostring(vv.decode_clock(bin)), tostring(vv.decode_clock(bin) == v3)))
