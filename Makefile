# Bangban: the two commands of the README are `make demo` and `make test`.
PY ?= python3

.PHONY: install demo test lint bench clean

install:
	$(PY) -m pip install -q -e '.[dev]'

# The main job: hub + one town + two villages on the embedded store, with sample data.
demo: install
	bangban demo --dir .demo

# Installs everything the tests need, starts PouchDB Server, runs ruff, mypy and pytest.
test:
	bash ops/ci/test.sh

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy

# Benchmarks; results are written to docs/benchmarks.md with machine and date.
bench: install
	bash ops/bench/run.sh

clean:
	rm -rf .demo build *.egg-info .pytest_cache .mypy_cache .ruff_cache
