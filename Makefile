# wheel2conda — set-up, demo, tests, benchmark.  Everything runs inside ./.venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install demo lint test bench corpus nightly clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@sh scripts/bootstrap-venv.sh "$(PYTHON)" "$(VENV)"
	$(BIN)/python -m pip install --quiet --upgrade "pip>=23.1"
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

# Build the bundled example wheels, convert them, publish into ./channel, install the result
# into a fresh prefix with py-rattler and run what was installed.
demo: install
	$(BIN)/python examples/demo.py

# Nightly job: rescan the indexes of recipes/sources.yaml, then convert and publish what changed.
# Both steps always run (a failing index does not stop the build of what is there); the exit
# status is non-zero when either step had a failure.
# SOURCES/RECIPES pick another config (the recipes are written next to it).
CHANNEL ?= channel
CACHE   ?= .work/cache
SOURCES ?= recipes/sources.yaml
RECIPES ?= $(patsubst %/,%,$(dir $(SOURCES)))
nightly: install
	@rc=0; \
	$(BIN)/wheel2conda recipes regenerate --config $(SOURCES) || rc=$$?; \
	$(BIN)/wheel2conda recipes build --recipes $(RECIPES) --channel $(CHANNEL) --cache $(CACHE) || rc=$$?; \
	exit $$rc

# Lint and type checks (rules and checked modules in pyproject.toml), and the import graph:
# no cycle between rooms or modules, at most 10 floors (scripts/imports.py; docs/architecture.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python scripts/imports.py --max-floors 10

# The suite, after a check that the dependency floors in pyproject.toml are true (the core tests
# run again in .work/min-venv with every dependency at its lower bound: scripts/min-versions.py).
# The full suite runs last, so its summary is the run's closing line.
test: install lint
	$(BIN)/python scripts/min-versions.py
	$(BIN)/python -m pytest -n auto -q

# Every bench/bench_*.py (python -m bench [NAME...]): conversion against whl2conda, cph and the
# unzip|zstd floor (docs/performance.md; BENCH_SET=small, the default, takes ~20 min on 2 cores,
# BENCH_SET=full adds cuBLAS and torch: over an hour; wheels are downloaded once into
# .work/bench-wheels or taken from BENCH_WHEELS=DIR), channel indexing (bench_index.py) and
# conda → wheel throughput on 1 thread vs all cores (bench_towheel.py).
BENCH_SET ?= small
bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	BENCH_SET=$(BENCH_SET) $(BIN)/python -m bench

# Real-wheel corpus check (issue 19; not part of `make test`/CI: it downloads from PyPI).  Downloads
# ~40 popular linux x86_64 wheels for this Python with their dependencies into .work/corpus/wheels
# (kept: reruns only resolve), converts and publishes them, installs each with py-rattler and
# compares with pip, imports, runs entry points, round-trips through to-wheel and pip; writes the
# table into docs/corpus.md.  CORPUS_ONLY=numpy,black checks a subset (docs untouched).
CORPUS_ONLY ?=
corpus: install
	$(BIN)/python -m bench.corpus $(if $(CORPUS_ONLY),--only $(CORPUS_ONLY),--write-docs)

clean:
	rm -rf $(VENV) .work build *.egg-info
	find channel -mindepth 1 ! -name README.md -exec rm -rf {} +
