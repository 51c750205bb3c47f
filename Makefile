# The two commands of the README, plus the benchmarks. Everything installs into .venv from the project's own files.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    := out

.PHONY: run test bench check fuzz clean extras

# setuptools installs a package whose folder is not its name (dsl/ -> perfdsl, pyproject's package-dir) in editable
# mode through a meta path finder, and that strategy always ends with an InformationOnly warning, "Please be careful
# with folders in your working directory with the same name as your package" (setuptools/command/editable_wheel.py,
# _TopLevelFinder.__exit__): no pyproject setting changes the strategy (strict mode warns too, and needs a
# reinstall for each new module). There is no folder named perfdsl here, so that one warning is filtered, by its
# message; every other warning of the build shows.
EDITABLE := PYTHONWARNINGS="ignore:Editable installation.:UserWarning" $(BIN)/python -m pip install --quiet \
	--disable-pip-version-check -e

# The runtime: what `make run` needs (lark, pydantic, numpy, openpyxl, matplotlib).
$(VENV)/.run-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(EDITABLE) .
	# An editable install leaves dsl/ uncompiled, and PYTHONDONTWRITEBYTECODE may be set: compile it once so
	# that every start of perfdsl does not recompile the package (about 0.1 s of its start-up).
	$(BIN)/python -m compileall -q dsl
	touch $@

# The tests: test tools, plus transformers and the CPU build of torch for the validation tests.
$(VENV)/.test-installed: $(VENV)/.run-installed
	$(EDITABLE) '.[dev,validation]'
	touch $@

# The optional extras (pyproject.toml) a user of the Python API or of `eval -o FILE.parquet`/`--dask` wants, which
# `make run` leaves out: pandas and xarray (notebook), pyarrow (parquet), dask.distributed (dask). `make test`
# installs them too (the dev extra).
extras: $(VENV)/.run-installed
	$(EDITABLE) '.[notebook,parquet,dask]'

run: $(VENV)/.run-installed
	mkdir -p $(OUT)
	$(BIN)/perfdsl eval reports/seed_benchmark.perf -o $(OUT)/seed_benchmark.xlsx
	$(BIN)/perfdsl plot reports/seed_benchmark.perf --y runtime --x model --series hardware --panels n_gpus \
		-o $(OUT)/seed_benchmark_runtime.png

test: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q

bench: $(VENV)/.test-installed
	$(BIN)/python -m pytest -q benchmarks -o python_files='bench_*.py' --benchmark-only \
		--benchmark-columns=min,median,mean,max,rounds

# The fuzzer's long run: ten minutes of mutated specs and logs (tests/fuzzing.py); failing inputs go to out/fuzz.
# `make test` runs the same fuzzer for a few seconds. FUZZ_SECONDS and FUZZ_SEED change the run.
FUZZ_SECONDS ?= 600
FUZZ_SEED    ?= 1
fuzz: $(VENV)/.run-installed
	$(BIN)/python tests/fuzzing.py --seconds $(FUZZ_SECONDS) --seed $(FUZZ_SEED) --keep $(OUT)/fuzz

check: $(VENV)/.run-installed
	$(BIN)/perfdsl check models/*.perf hardware/*.perf software/*.perf costmodels/*.perf reports/*.perf

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .benchmarks
