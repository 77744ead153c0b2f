# ghit: a self-hosted hit counter for badges.
#
#   make            build build/ghit
#   make run        install what is missing, build, start a server on 127.0.0.1:8080
#   make test       install what is missing, build, run every test
#   make check      tests with warnings as errors, then again under ASan+UBSan (what CI runs)
#   make fuzz       run the libFuzzer targets for FUZZ_SECONDS each (needs clang)
#   make analyze    clang's static analyzer (scan-build) over the whole build; fails on a report
#   make format     reformat the C sources with the committed .clang-format
#
# Variables: SAN=1 builds into build/san with AddressSanitizer and UBSan;
# WERROR=1 turns warnings into errors (developers and CI; users' builds do not).

CC      ?= cc
PREFIX  ?= /usr/local
PKGS    := libmicrohttpd sqlite3 hiredis
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
        -Wwrite-strings -Wno-missing-field-initializers
ifeq ($(WERROR),1)
WARN += -Werror
endif

ifeq ($(SAN),1)
BUILD   := build/san
OPT     := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
SANLD   := -fsanitize=address,undefined
else
BUILD   := build
OPT     := -O2 -g
SANLD   :=
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE -DGHIT_VERSION='"$(VERSION)"' -Isrc $(OPT) $(WARN) \
              $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS = $(SANLD) $(LDFLAGS)
LIBS        = $(PKG_LIBS) -lpthread -lm

SRC      := $(sort $(wildcard src/*.c))
WEB      := web/index.html web/app.css web/app.js
LUA      := src/store_redis_apply.lua src/store_redis_check.lua src/store_redis_write.lua
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(filter-out src/main.c,$(SRC))) \
            $(BUILD)/obj/web_assets.o $(BUILD)/obj/store_redis_lua.o
UNIT     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(sort $(wildcard tests/unit/test_*.c)))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
REPLAY   := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/%_replay,$(FUZZ_SRC))

.PHONY: all run test check unit fuzz-replay conformance browser integ fuzz analyze deps deps-test \
        format format-check clean install bench
.DELETE_ON_ERROR:

all: $(BUILD)/ghit

$(BUILD)/obj/%.o: src/%.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

# The dashboard's files (web/), compiled in with .incbin, paths relative to this directory.
$(BUILD)/obj/web_assets.o: src/web_assets.S src/incbin.h $(WEB) | $(BUILD)/obj
	$(CC) -c -o $@ $<

# The Redis store's Lua scripts, compiled in the same way.
$(BUILD)/obj/store_redis_lua.o: src/store_redis_lua.S src/incbin.h $(LUA) | $(BUILD)/obj
	$(CC) -c -o $@ $<

$(BUILD)/libghit.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/ghit: $(BUILD)/obj/main.o $(BUILD)/libghit.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(BUILD)/libghit.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) -Itests/unit $(ALL_LDFLAGS) -o $@ $< $(BUILD)/libghit.a $(LIBS)

# A fuzz target linked with a plain main() that replays the committed corpus.
$(BUILD)/tests/%_replay: tests/fuzz/%.c tests/fuzz/replay.c $(BUILD)/libghit.a | $(BUILD)/tests
	$(CC) $(ALL_CFLAGS) $(shell pkg-config --cflags libxml-2.0) $(ALL_LDFLAGS) -o $@ \
	    $< tests/fuzz/replay.c $(BUILD)/libghit.a $(LIBS) $(shell pkg-config --libs libxml-2.0)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

-include $(filter-out %/web_assets.d %/store_redis_lua.d,$(LIB_OBJ:.o=.d)) $(BUILD)/obj/main.d

# --- set-up --------------------------------------------------------------------
deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test

# --- run -----------------------------------------------------------------------
run: deps
	@$(MAKE) --no-print-directory all
	@echo
	@echo "ghit is serving on http://127.0.0.1:8080 (database: ghit.db; Ctrl-C stops it)"
	@echo "  badge URL:  http://127.0.0.1:8080/badge.svg?repo=OWNER/NAME"
	@echo "  Markdown:   ![hits](http://127.0.0.1:8080/badge.svg?repo=OWNER/NAME)"
	@echo
	exec $(BUILD)/ghit serve --listen 127.0.0.1:8080 --db ghit.db

# --- tests ---------------------------------------------------------------------
test: deps-test
	@$(MAKE) --no-print-directory all unit fuzz-replay conformance browser integ

unit: $(UNIT)
	@tests/run-unit.sh $(UNIT)

fuzz-replay: $(REPLAY)
	@for t in $(REPLAY); do \
	    name=$$(basename $$t _replay); \
	    $$t tests/fuzz/corpus/$${name#fuzz_} || exit 1; \
	done

conformance: $(BUILD)/ghit
	@GHIT_BIN=$(abspath $(BUILD)/ghit) tests/conformance/run.sh

browser: $(BUILD)/ghit
	@GHIT_BIN=$(abspath $(BUILD)/ghit) tests/browser/run.sh

integ: $(BUILD)/ghit
	@GHIT_BIN=$(abspath $(BUILD)/ghit) /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integ

check: deps-test format-check
	@$(MAKE) --no-print-directory WERROR=1 test
	@$(MAKE) --no-print-directory WERROR=1 SAN=1 all unit fuzz-replay conformance browser integ

# libFuzzer runs, by hand: make fuzz FUZZ_SECONDS=60
FUZZ_SECONDS ?= 30
fuzz: | $(BUILD)/tests
	@for f in $(FUZZ_SRC); do \
	    name=$$(basename $$f .c); \
	    clang -std=c11 -D_GNU_SOURCE -DGHIT_VERSION='"$(VERSION)"' -Isrc -g -O1 -fsanitize=fuzzer,address,undefined \
	        $$(pkg-config --cflags $(PKGS) libxml-2.0) -o $(BUILD)/tests/$$name $$f \
	        $(filter-out src/main.c,$(SRC)) src/web_assets.S src/store_redis_lua.S $(LIBS) $$(pkg-config --libs $(PKGS) libxml-2.0) || exit 1; \
	    mkdir -p tests/fuzz/corpus/$${name#fuzz_}; \
	    $(BUILD)/tests/$$name -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus/$${name#fuzz_} || exit 1; \
	done

# A build of its own, so that every file is analysed, whatever build/ holds.
analyze:
	rm -rf build/analyze
	scan-build --status-bugs -o build/analyze/reports $(MAKE) --no-print-directory BUILD=build/analyze all

bench: all
	bench/run.sh

# --- housekeeping ----------------------------------------------------------------
format:
	clang-format -i src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c bench/*.c
format-check:
	@scripts/format-check.sh

install: all
	install -D -m 755 $(BUILD)/ghit $(DESTDIR)$(PREFIX)/bin/ghit
	install -D -m 644 doc/ghit.1 $(DESTDIR)$(PREFIX)/share/man/man1/ghit.1
	install -D -m 644 contrib/camo-ranges.txt $(DESTDIR)$(PREFIX)/share/ghit/camo-ranges.txt

clean:
	rm -rf build
