"""The benchmark suites run by bench/run, one module each."""
