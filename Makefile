# The two set-up commands of the README: `make demo` and `make test`.
# Both install whatever Debian packages are missing, configure and build; everything else is a helper.
.PHONY: demo test bench deps build build-asan build-tsan build-fuzz fuzz test-unit test-asan clean

deps:
	./scripts/install-deps.sh

build: deps
	cmake --preset default
	cmake --build --preset default

build-asan: deps
	cmake --preset asan
	cmake --build --preset asan

build-tsan: deps
	cmake --preset tsan
	cmake --build --preset tsan

build-fuzz: deps
	cmake --preset fuzz
	cmake --build --preset fuzz

# The libFuzzer targets (tests/fuzz): replay their seeds and regressions, then fuzz each for
# FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
fuzz: build-fuzz
	ctest --preset fuzz
	./tests/fuzz/run.sh $(FUZZ_SECONDS)

# Every test on the normal build, the benchmarks in their quick form (that they run, not their
# numbers), the unit and integration tests again under ASan+UBSan, the unit tests and the
# multi-threaded integration tests under TSan, then a minute of libFuzzer on each fuzz target.
test: build build-asan build-tsan
	ctest --preset default
	./bench/run --quick --build-dir build/default
	ctest --preset asan
	ctest --preset tsan
	$(MAKE) --no-print-directory fuzz

# The full benchmark suite in a Release build (bench/RESULTS.md is its output).
bench: deps
	./bench/run

demo: build
	./scripts/demo.sh

clean:
	rm -rf build
