# tajir: every target installs what is missing (scripts/install-deps.sh) and builds first.
JOBS ?= $(shell nproc)
BUILD ?= build
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps build run test bench test-sanitize format format-check clean

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

test: build format-check
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	bash bench/run.sh $(BUILD)
	bash bench/http_bench.sh $(BUILD)
	bash bench/posday.sh $(BUILD)

# ASan+UBSan, then TSan, each a build of its own.
test-sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAJIR_SANITIZE=address,undefined > /dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ctest --output-on-failure -j$(JOBS)
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAJIR_SANITIZE=thread > /dev/null
	@cmake --build build-tsan -j$(JOBS)
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest --output-on-failure -j$(JOBS)

format: deps
	find src bench -name '*.cc' -o -name '*.h' | xargs clang-format -i

# Fails, naming each file and line, if `make format` would change anything.
format-check: deps
	find src bench -name '*.cc' -o -name '*.h' | xargs clang-format --dry-run --Werror

clean:
	rm -rf build build-asan build-tsan
