# The README's set-up commands: `make demo` and `make test`; `make check` is everything CI runs.
# Each target installs the Debian packages it needs and only those (scripts/install-deps.sh TIER),
# configures and builds its CMake preset, then runs. `make help` lists them.
.PHONY: help demo test check test-slow test-asan test-tsan fuzz fuzz-replay bench \
	build build-asan build-tsan build-fuzz clean

# Seconds of random fuzzing per fuzz target: a short run in `make check`, a longer one in `make fuzz`.
CHECK_FUZZ_SECONDS ?= 15
FUZZ_SECONDS ?= 300

help:
	@echo "make demo        build, then run the classic three-server experiment with short delays"
	@echo "make test        build, then the unit and integration tests (a few minutes)"
	@echo "make check       everything CI runs: test, test-slow, test-asan, test-tsan, fuzz-replay, a short fuzz"
	@echo "make test-slow   the slow tier: exhaustion tests, the experiments' check, bench/run --quick"
	@echo "make test-asan   unit, integration and exhaustion tests under ASan+UBSan (build/asan)"
	@echo "make test-tsan   unit tests and the multi-threaded code's tests under TSan (build/tsan)"
	@echo "make fuzz-replay replay the fuzz targets' seeds and saved crashes (build/fuzz, clang)"
	@echo "make fuzz        fuzz-replay, then fuzz each target for FUZZ_SECONDS (default $(FUZZ_SECONDS))"
	@echo "make bench       the full benchmark suite in a Release build (writes bench/RESULTS.md)"
	@echo "make build       install what the build needs and build the default preset (build/default)"
	@echo "make build-asan, build-tsan, build-fuzz   the same for the other presets"
	@echo "make clean       remove build/"

build:
	./scripts/install-deps.sh build
	cmake --preset default
	cmake --build --preset default

build-asan:
	./scripts/install-deps.sh build
	cmake --preset asan
	cmake --build --preset asan

build-tsan:
	./scripts/install-deps.sh build
	cmake --preset tsan
	cmake --build --preset tsan

build-fuzz:
	./scripts/install-deps.sh fuzz
	cmake --preset fuzz
	cmake --build --preset fuzz

test: build
	./scripts/install-deps.sh test
	ctest --preset default

test-slow: build
	./scripts/install-deps.sh slow
	ctest --preset slow

test-asan: build-asan
	./scripts/install-deps.sh test
	ctest --preset asan

test-tsan: build-tsan
	./scripts/install-deps.sh test
	ctest --preset tsan

fuzz-replay: build-fuzz
	ctest --preset fuzz

fuzz: fuzz-replay
	./tests/fuzz/run.sh $(FUZZ_SECONDS)

# Sequential on purpose: the tiers share two cores, and a tier that runs beside another measures it.
check:
	$(MAKE) --no-print-directory test
	$(MAKE) --no-print-directory test-slow
	$(MAKE) --no-print-directory test-asan
	$(MAKE) --no-print-directory test-tsan
	$(MAKE) --no-print-directory fuzz-replay
	./tests/fuzz/run.sh $(CHECK_FUZZ_SECONDS)

bench:
	./scripts/install-deps.sh bench
	./bench/run

demo: build
	./scripts/install-deps.sh demo
	./scripts/demo.sh

clean:
	rm -rf build
