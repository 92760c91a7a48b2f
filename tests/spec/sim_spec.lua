-- sim_spec.lua - a short run of examples/sim.lua: replicas kept in step by
-- keyspace sync under partitions and a lossy, duplicating, reordering
-- network, checked against the model at every few steps.
local sim = dofile("examples/sim.lua")

describe("sim", function()
  it("converges without losing writes or inventing conflicts", function()
    for seed = 1, 3 do
      local st = sim.run { replicas = 4, keys = 6, steps = 1200, seed = seed }
      assert(st.writes > 150, "writes happened")
      assert(st.syncs > 100, "deltas were applied")
      assert(st.lost > 0 and st.dup > 0, "the network misbehaved")
      assert(st.max_siblings >= 2, "concurrent writes were kept")
      assert(st.checks > 70, "the model was checked")
    end
  end)

  it("reaps tombstones without bringing deletes back", function()
    local reaped = 0
    for seed = 4, 7 do
      reaped = reaped + sim.run { replicas = 3, keys = 4, steps = 600,
                                  seed = seed }.reaped
    end
    assert(reaped > 0, "some tombstones were reaped")
  end)

  it("catches a replica that drops what it receives", function()
    raises("the model says", function()
      sim.run { replicas = 3, keys = 4, steps = 400, seed = 1,
                fault = "skip-apply" }
    end)
  end)
end)
