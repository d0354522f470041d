# The two set-up commands of the README: `make demo` and `make test`.
# Both install whatever Debian packages are missing, configure and build; everything else is a helper.
.PHONY: demo test deps build build-asan test-unit test-asan clean

deps:
	./scripts/install-deps.sh

build: deps
	cmake --preset default
	cmake --build --preset default

build-asan: deps
	cmake --preset asan
	cmake --build --preset asan

# Every test on the normal build, then the unit tests again under ASan+UBSan.
test: build build-asan
	ctest --preset default
	ctest --preset asan

demo: build
	./scripts/demo.sh

clean:
	rm -rf build
