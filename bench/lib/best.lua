-- best.lua - the timing of the Lua benchmarks (bench/*.lua):
--   local best = dofile(dir .. "/lib/best.lua")
--   best(f [, rounds]) -> the shortest CPU time (os.clock seconds) of
--   `rounds` calls of f (3 when not given), each after a full collection.
local clock = os.clock
return function(f, rounds)
  local b = math.huge
  for _ = 1, rounds or 3 do
    collectgarbage(); collectgarbage()
    local t0 = clock()
    f()
    local t = clock() - t0
    if t < b then b = t end
  end
  return b
end
