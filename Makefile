# vv - versioned key-value data with dotted version vectors and Lua resolvers
#
#   make            build/libvv.a, build/libvv.so, build/vv.so, build/vv
#   make check      every test (C under ASan/UBSan, Lua specs on each host)
#   make demo       run the examples
#   make bench      the benchmarks (ratios measured in the same run)
#   make hosts      build/lua5.1, lua5.3, lua5.4, luajit modules
#   make tarantool-demo  the seed stories on three Tarantool instances
#   make soak-tarantool  three Tarantool instances under faults, SOAK_SECONDS
#   make install PREFIX=/usr/local
#
# Missing Debian packages are installed by mk/deps.sh (one list).

CC      ?= cc
HOSTCC  ?= cc
OPT     ?= -O2 -g
PREFIX  ?= /usr/local
prefix   = $(PREFIX)
B        = build

LUA_PC  ?= lua5.4
PC       = $(shell pkg-config --cflags $(1) 2>/dev/null)
PCL      = $(shell pkg-config --libs $(1) 2>/dev/null)
LUA_CF   = $(call PC,$(LUA_PC))
LUA_LIBS = $(call PCL,$(LUA_PC))
DEP_CF   =
DEP_LIBS = $(LDFLAGS) -llmdb -lxxhash -lmsgpackc -lm
ifeq ($(shell uname -s),Darwin)
MODFLAGS = -bundle -undefined dynamic_lookup
else
MODFLAGS = -shared
endif

# The Lua side's objects are built -fPIC like the core's; their functions
# are never interposed, so the compiler may inline one into another.
LUACF    = -fno-semantic-interposition

# The core's variables and rules (W, CFLAGS, SAN, CORE_OBJ, CORE_TESTS...).
CORE_DIR  = core
TESTS_DIR = tests
include core/Makefile

# The Lua side, by product (docs/layout.md says what each may include).
# libvv carries common/, sandbox/ (script resolvers for C programs) and
# tools/; the module (module/) and the REPL (repl/) are outputs of their own.
COMMON_SRC  = lua/common/lcodec.c lua/common/luasrc.c
SANDBOX_SRC = lua/sandbox/resolver.c lua/sandbox/resolver_budget.c \
              lua/sandbox/resolver_call.c lua/sandbox/resolver_lib.c \
              lua/sandbox/resolver_sandbox.c lua/sandbox/resolver_sort.c \
              lua/sandbox/pattern.c lua/sandbox/pattern_lib.c
TOOLS_SRC   = lua/tools/ltools.c lua/tools/ltools_checker.c \
              lua/tools/ltools_state.c
MOD_SRC     = lua/module/lvv.c lua/module/lvv_bench.c lua/module/lvv_clock.c \
              lua/module/lvv_ffi.c lua/module/lvv_handle.c \
              lua/module/lvv_inspect.c lua/module/lvv_read.c \
              lua/module/lvv_rw.c lua/module/lvv_state.c \
              lua/module/lvv_store.c lua/module/lvv_sync.c
REPL_SRC    = lua/repl/vvrepl.c lua/repl/vvrepl_complete.c \
              lua/repl/vvrepl_console.c lua/repl/vvrepl_interrupt.c
LLIB_SRC    = $(COMMON_SRC) $(SANDBOX_SRC) $(TOOLS_SRC)
LUA_HDR     = $(wildcard lua/*/*.h)
# Lua source compiled in: mk/lua2c.c turns it into C under $(GEN).
GEN      = $(B)/gen
TOOLS_LUA = lua/tools/check_cases.lua lua/tools/check_report.lua \
            lua/tools/check_resolver.lua lua/tools/command.lua lua/tools/dot.lua \
            lua/tools/keyorder.lua lua/tools/show.lua
# vv.crdt (lua/crdt) and its types, the resolver scripts it runs in the
# host: compiled in with the tools' parts (each file is a part, named by
# its base name).
CRDT_LUA = lua/crdt/crdt.lua lua/crdt/crdt_gen.lua scripts/counter.lua \
           scripts/set.lua scripts/lww_register.lua scripts/mv_register.lua \
           scripts/map.lua
# The module's part in Lua: on LuaJIT, the hot calls through ffi.
MOD_LUA  = lua/module/vvffi.lua
REPL_LUA = lua/repl/vvrepl_pp.lua lua/repl/vvrepl_prompt.lua \
           lua/repl/vvrepl_start.lua
LLIB_OBJ = $(LLIB_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/tools_lua.o
MOD_OBJ  = $(MOD_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/module_lua.o
REPL_OBJ = $(REPL_SRC:%.c=$(B)/obj/%.o) $(B)/obj/gen/vvrepl_lua.o
SAN_OBJ  = $(CORE_SAN) $(LLIB_SRC:%.c=$(B)/san/%.o) $(B)/san/gen/tools_lua.o
# The module under the sanitizers, for tests that load it into a state of
# their own (test_module_oom.c): an archive, so other tests take nothing.
MOD_SAN  = $(MOD_SRC:%.c=$(B)/san/%.o) $(B)/san/gen/module_lua.o
ALL_TESTS = $(patsubst tests/%.c,$(B)/san/%,$(sort $(wildcard tests/test_*.c)))
LUA_TESTS = $(filter-out $(CORE_TESTS),$(ALL_TESTS))
TESTS    = $(CORE_TESTS) $(LUA_TESTS)
BENCHES  = $(patsubst bench/%.c,$(B)/%,$(sort $(wildcard bench/*.c)))
HOSTS    = lua5.1 lua5.3 lua5.4 luajit

.PHONY: all deps deps-all check demo bench hosts install clean fuzz \
        module install-module tarantool-module tarantool-demo bench-tarantool \
        install-luajit soak-tarantool
.DEFAULT_GOAL := all
all: deps $(B)/libvv.a $(B)/libvv.so $(B)/vv.so $(B)/vv

deps:
	@sh mk/deps.sh
deps-all:
	@sh mk/deps.sh all

# ---- Lua source as C ---------------------------------------------------
$(B)/lua2c: mk/lua2c.c
	@mkdir -p $(@D)
	$(HOSTCC) -o $@ mk/lua2c.c
$(GEN)/tools_lua.c: $(B)/lua2c $(TOOLS_LUA) $(CRDT_LUA)
	@mkdir -p $(@D)
	$(B)/lua2c vvl_tools_lua $(TOOLS_LUA) $(CRDT_LUA) > $@.tmp && mv $@.tmp $@
$(GEN)/module_lua.c: $(B)/lua2c $(MOD_LUA)
	@mkdir -p $(@D)
	$(B)/lua2c vvl_module_lua $(MOD_LUA) > $@.tmp && mv $@.tmp $@
$(GEN)/vvrepl_lua.c: $(B)/lua2c $(REPL_LUA)
	@mkdir -p $(@D)
	$(B)/lua2c vvl_repl_lua $(REPL_LUA) > $@.tmp && mv $@.tmp $@

# ---- the C library (the core's rules are in core/Makefile) ------------
$(B)/obj/lua/%.o: lua/%.c $(CORE_HDR) $(LUA_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LUACF) $(LUA_CF) -Icore -Ilua -c -o $@ $<
$(B)/obj/gen/%.o: $(GEN)/%.c lua/common/luasrc.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LUA_CF) -Ilua -c -o $@ $<
$(B)/libvv.a: $(CORE_OBJ) $(LLIB_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/libvv.so: $(CORE_OBJ) $(LLIB_OBJ)
	$(CC) -shared -o $@ $^ $(LUA_LIBS) $(DEP_LIBS)

# ---- the Lua module and the REPL (default host: Lua 5.4) ------------
$(B)/vv.so: $(MOD_OBJ) $(CORE_OBJ) $(LLIB_OBJ)
	$(CC) $(MODFLAGS) -o $@ $^ $(DEP_LIBS)
$(B)/vv: $(REPL_OBJ) $(MOD_OBJ) $(CORE_OBJ) $(LLIB_OBJ)
	$(CC) -o $@ $^ $(LUA_LIBS) -lreadline $(DEP_LIBS)
# The REPL without readline (VV_NO_READLINE: lines read with fgets), for
# systems that lack it; make check builds it so the fallback keeps working.
REPL_TERM  = vvrepl_console vvrepl_complete
PLAIN_OBJ  = $(filter-out $(REPL_TERM:%=$(B)/obj/lua/repl/%.o),$(REPL_OBJ)) \
             $(REPL_TERM:%=$(B)/obj/plain/%.o)
$(B)/obj/plain/%.o: lua/repl/%.c $(LUA_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LUA_CF) -DVV_NO_READLINE -Icore -Ilua -c -o $@ $<
$(B)/vv-plain: $(PLAIN_OBJ) $(MOD_OBJ) $(CORE_OBJ) $(LLIB_OBJ)
	$(CC) -o $@ $^ $(LUA_LIBS) $(DEP_LIBS)

# The module alone, installed into INST_LIBDIR: what LuaRocks runs
# (rockspecs/vv-scm-1.rockspec), giving the Lua headers as LUA_CF.
module: $(B)/vv.so
install-module: $(B)/vv.so
	install -d $(DESTDIR)$(INST_LIBDIR)
	install -m 755 $(B)/vv.so $(DESTDIR)$(INST_LIBDIR)/vv.so

# ---- other hosts: build/<host>/vv.so ---------------------------------
hosts: deps-all
	@for h in $(HOSTS); do \
	  if pkg-config --exists $$h; then $(MAKE) --no-print-directory host H=$$h; \
	  else echo "vv: $$h not installed, skipped"; fi; done
	@$(MAKE) --no-print-directory $(TNT_LUA)
# The Tarantool integration: require "vv.tarantool" next to the LuaJIT
# module (Tarantool's LuaJIT loads build/luajit/vv.so).
TNT_SRC = lua/tarantool/vv/tarantool.lua lua/tarantool/vv/tarantool/config.lua \
          lua/tarantool/vv/tarantool/reaper.lua
TNT_LUA = $(TNT_SRC:lua/tarantool/%=$(B)/luajit/%)
$(B)/luajit/vv/%.lua: lua/tarantool/vv/%.lua
	@mkdir -p $(@D)
	cp $< $@
H ?= lua5.4
HOBJ = $(patsubst %.c,$(B)/$(H)/%.o,$(MOD_SRC) $(LLIB_SRC)) \
       $(B)/$(H)/gen/tools_lua.o $(B)/$(H)/gen/module_lua.o
host: $(B)/$(H)/vv.so
$(B)/$(H)/%.o: %.c $(CORE_HDR) $(LUA_HDR)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LUACF) $(call PC,$(H)) -Icore -Ilua -c -o $@ $<
$(B)/$(H)/gen/%.o: $(GEN)/%.c lua/common/luasrc.h
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(call PC,$(H)) -Ilua -c -o $@ $<
$(B)/$(H)/vv.so: $(HOBJ) $(CORE_OBJ)
	$(CC) $(MODFLAGS) -o $@ $^ $(DEP_LIBS)

# ---- tests (ASan + UBSan; the core's own are built by core/Makefile) --
$(B)/san/lua/%.o: lua/%.c $(CORE_HDR) $(LUA_HDR)
	@mkdir -p $(@D)
	$(CC) $(SAN) $(W) $(XCFLAGS) -D_DEFAULT_SOURCE -DVV_DEBUG $(LUA_CF) -Icore -Ilua -c -o $@ $<
$(B)/san/gen/%.o: $(GEN)/%.c lua/common/luasrc.h
	@mkdir -p $(@D)
	$(CC) $(SAN) $(W) $(XCFLAGS) $(LUA_CF) -Ilua -c -o $@ $<
$(B)/san/libvv.a: $(SAN_OBJ)
	@rm -f $@
	ar rcs $@ $^
$(B)/san/libvvmod.a: $(MOD_SAN)
	@rm -f $@
	ar rcs $@ $^
$(LUA_TESTS): $(B)/san/%: tests/%.c $(wildcard tests/*.h) $(B)/san/libvv.a \
              $(B)/san/libvvmod.a
	$(CC) $(SAN) $(W) $(XCFLAGS) -D_DEFAULT_SOURCE $(LUA_CF) -Icore -Ilua -Itests -o $@ $< \
	  $(B)/san/libvvmod.a $(B)/san/libvv.a -lcmocka $(LUA_LIBS) $(DEP_LIBS) -lpthread

check: deps-all all $(TESTS) $(BENCHES) $(B)/embed $(B)/vv-plain
	@$(MAKE) --no-print-directory hosts
	@sh tests/check.sh $(TESTS)

# ---- benchmarks, examples --------------------------------------------
$(B)/bench_%: bench/bench_%.c bench/benchutil.h $(B)/libvv.a
	$(CC) $(CFLAGS) $(LUA_CF) -Icore -Ilua -o $@ $< $(B)/libvv.a $(LUA_LIBS) $(DEP_LIBS)
bench: all $(BENCHES)
	@echo "vv: building the Lua hosts' modules for the benchmarks"
	@$(MAKE) -s --no-print-directory hosts tarantool-module
	@sh bench/run.sh $(BENCHES)
bench-tarantool: tarantool-module
	@sh bench/bench_tarantool.sh

$(B)/embed: examples/embed.c $(B)/libvv.a
	$(CC) $(CFLAGS) -Icore -Ilua/common -o $@ $< $(B)/libvv.a $(LUA_LIBS) $(DEP_LIBS)
demo: deps-all all $(B)/embed tarantool-module
	@sh examples/run.sh

# ---- Tarantool (docs/tarantool.md) -------------------------------------
# The module for Tarantool's LuaJIT, and require "vv.tarantool" next to it.
tarantool-module: deps-all
	@if pkg-config --exists luajit; then \
	  $(MAKE) --no-print-directory host H=luajit && \
	  $(MAKE) --no-print-directory $(TNT_LUA); \
	else echo "vv: luajit not installed, the Tarantool module skipped"; fi
# The seed stories on three local Tarantool instances.
tarantool-demo: tarantool-module
	@sh examples/tarantool/demo.sh
# Three instances under writes, cuts, SIGKILLs and restarts for
# SOAK_SECONDS (default 300), then the model's verdict (not in check).
soak-tarantool: tarantool-module
	@sh tests/tarantool/soak.sh

# ---- fuzzing with libFuzzer (clang) ----------------------------------
fuzz: deps $(GEN)/tools_lua.c
	@mkdir -p $(B)/fuzz/corpus
	clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE \
	  $(LUA_CF) -Icore -Ilua -o $(B)/fuzz/fuzz_state tests/fuzz_state.c \
	  $(CORE_SRC) $(LLIB_SRC) $(GEN)/tools_lua.c $(LUA_LIBS) $(DEP_LIBS)
	$(B)/fuzz/fuzz_state -max_total_time=$${FUZZ_SECONDS:-60} $(B)/fuzz/corpus

# ---- install -----------------------------------------------------------
LUA_CMOD = $(shell pkg-config --variable=INSTALL_CMOD $(LUA_PC) 2>/dev/null)
INSTALL_CMOD = $(if $(LUA_CMOD),$(DESTDIR)$(prefix)/lib/lua/5.4,$(DESTDIR)$(prefix)/lib/lua/5.4)
install: all
	install -d $(DESTDIR)$(prefix)/include $(DESTDIR)$(prefix)/lib/pkgconfig \
	  $(DESTDIR)$(prefix)/bin $(INSTALL_CMOD) $(DESTDIR)$(prefix)/share/vv/scripts
	install -m 644 core/vv.h core/vv_bind.h lua/common/vvlua.h $(DESTDIR)$(prefix)/include/
	install -m 644 $(B)/libvv.a $(B)/libvv.so $(DESTDIR)$(prefix)/lib/
	install -m 755 $(B)/vv.so $(INSTALL_CMOD)/vv.so
	install -m 755 $(B)/vv $(DESTDIR)$(prefix)/bin/vv
	install -m 644 scripts/*.lua $(DESTDIR)$(prefix)/share/vv/scripts/
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@VERSION@|0.1.0|' vv.pc.in \
	  > $(DESTDIR)$(prefix)/lib/pkgconfig/vv.pc
	@$(MAKE) --no-print-directory install-luajit
# LuaJIT (and Tarantool, whose Lua is LuaJIT) look for C modules in
# lib/lua/5.1 and Lua ones in share/lua/5.1: the LuaJIT build of the
# module goes there, with require "vv.tarantool" beside it.
LJ_CMOD = $(DESTDIR)$(prefix)/lib/lua/5.1
LJ_LMOD = $(DESTDIR)$(prefix)/share/lua/5.1
install-luajit:
	@if pkg-config --exists luajit; then \
	  $(MAKE) --no-print-directory host H=luajit && \
	  install -d $(LJ_CMOD) $(LJ_LMOD)/vv/tarantool && \
	  install -m 755 $(B)/luajit/vv.so $(LJ_CMOD)/vv.so && \
	  for f in $(TNT_SRC); do \
	    install -m 644 $$f $(LJ_LMOD)/$${f#lua/tarantool/} || exit 1; \
	  done; \
	else echo "vv: luajit not installed: the LuaJIT and Tarantool module" \
	  "is not installed"; fi

clean:
	rm -rf $(B)
