# tajir: every target installs what is missing (scripts/install-deps.sh) and builds first.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build run test bench test-sanitize fuzz-build fuzz fuzz-smoke format format-check clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(BUILD) -j$(JOBS)

DB ?= tajir.db
PORT ?= 8080

# Seeds a demo database the first time, then serves it.
run: build
	@if [ ! -f "$(DB)" ]; then ./$(BUILD)/tajir seed --db sqlite:$(DB); \
	else echo "demo logins: owner1 / cashier1 ... (password tajir-demo-2026); 'rm $(DB)' to reseed"; fi
	./$(BUILD)/tajir serve --db sqlite:$(DB) --port $(PORT)

# Then each fuzz target for 5 s: a clean clang build of what they need and the runs add about
# 3m45s on 2 cores, ~40 s once build-fuzz exists (measured; fuzz/README.md).
test: build format-check
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	@$(MAKE) --no-print-directory fuzz-smoke

bench: build
	bash bench/run.sh $(BUILD)
	bash bench/http_bench.sh $(BUILD)
	bash bench/posday.sh $(BUILD)
	bash bench/tiers.sh $(BUILD)
	bash bench/nodes.sh $(BUILD)

# ASan+UBSan, then TSan, each a build of its own.
test-sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAJIR_SANITIZE=address,undefined > /dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j$(JOBS)
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAJIR_SANITIZE=thread > /dev/null
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# libFuzzer targets (fuzz/README.md), clang with ASan+UBSan, in build-fuzz. `make fuzz` runs each
# for SECONDS (60 by default), growing build-fuzz/corpus/<target> from the seeds in
# fuzz/corpus/<target>; a failing input is saved as build-fuzz/crashes/<target>-*.
# `make fuzz-smoke` runs each for 5 s.
FUZZERS := http_request bodies cache_key money compression trace
SECONDS ?= 60

fuzz-build: deps
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DTAJIR_FUZZ=ON > /dev/null
	@cmake --build build-fuzz -j$(JOBS) --target tajir_fuzzers

fuzz: fuzz-build
	@mkdir -p build-fuzz/crashes
	@for f in $(FUZZERS); do \
	  mkdir -p build-fuzz/corpus/$$f; log=build-fuzz/fuzz_$$f.log; \
	  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ./build-fuzz/fuzz_$$f \
	    -max_total_time=$(SECONDS) -print_final_stats=1 -artifact_prefix=build-fuzz/crashes/$$f- \
	    build-fuzz/corpus/$$f fuzz/corpus/$$f > $$log 2>&1 \
	    || { tail -n 40 $$log; echo "fuzz_$$f FAILED (input in build-fuzz/crashes/, log $$log)"; exit 1; }; \
	  echo "fuzz_$$f: $(SECONDS) s, $$(grep -o 'number_of_executed_units: [0-9]*' $$log | grep -o '[0-9]*$$') runs, ok"; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz SECONDS=5

format: deps
	find src bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i

# Fails, naming each file and line, if `make format` would change anything.
format-check: deps
	find src bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build build-asan build-tsan build-fuzz
