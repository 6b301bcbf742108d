# The two commands of the README. Both create the environment from nothing when needed:
# a venv in .venv with dbdbench, every plugin under plugins/, and the test dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.dbdbench-installed
# The learned-method plugins need torch. Installed first and pinned to the CPU wheel, so a CPU-only machine
# never pulls a multi-GB CUDA build; a GPU user installs a CUDA build of torch into .venv first (see README),
# and this step then keeps it (the plugins accept any torch >= 2.1).
TORCH  ?= torch==2.13.0

.PHONY: demo test setup clean-runs

setup: $(STAMP)

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install --quiet --disable-pip-version-check '$(TORCH)'
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

# The main job on the embedded default dataset: every method on the synthetic test split (generated on
# first use), each result saved to leaderboards/results/synth/, then leaderboards/synth.md from them.
# Timing tables come from 'dbdbench bench' (leaderboards/make_leaderboards.sh timing), so the runs use
# every core for throughput. The learned methods run with the weights their plugins ship. Every result
# carries 95% bootstrap intervals (--ci), which the table shows (leaderboard --ci; docs/results.md).
# Re-running it reproduces the committed numbers to the bit (any --workers; OpenBLAS kernels pinned on x86-64,
# dbdbench/blas.py), and a result whose numbers did not change is kept as committed (only its provenance stamps
# would differ), so on a fresh clone it leaves 'git status' clean (docs/reliability.md, reproducible numbers).
DEMO_METHODS ?= gradient laplacian dct svd lbp hifst rtdbd selfgen
DEMO_WORKERS ?= 2
demo: $(STAMP)
	@for m in $(DEMO_METHODS); do \
		echo "== dbdbench run --method $$m --dataset synth --workers $(DEMO_WORKERS) --ci 0.95 --save-to-leaderboard" >&2; \
		$(BIN)/dbdbench run --method $$m --dataset synth --workers $(DEMO_WORKERS) --ci 0.95 --save-to-leaderboard || exit $$?; \
	done
	$(BIN)/dbdbench leaderboard leaderboards/results --dataset synth --ci --out leaderboards/synth.md

# Lint, format and type checks, the test suite, then the committed tables against the committed results
# (what CI runs: .ci/run), so CI keeps the code as clean as review left it.
LINTED := dbdbench plugins tests benchmarks
test: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy
	$(BIN)/python -m pytest -q
	$(BIN)/dbdbench leaderboard --check

clean-runs:
	rm -rf runs
