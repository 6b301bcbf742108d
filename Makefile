# The two commands of the README. Both create the environment from nothing when needed:
# a venv in .venv with dbdbench, every plugin under plugins/, and the test dependencies.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PLUGINS := $(wildcard plugins/*/pyproject.toml)
STAMP  := $(VENV)/.dbdbench-installed

.PHONY: demo test setup clean-runs

setup: $(STAMP)

$(STAMP): pyproject.toml $(PLUGINS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' $(foreach p,$(PLUGINS),-e $(dir $(p)))
	touch $(STAMP)

# The main job on the embedded default dataset: every handcrafted baseline on the synthetic test
# split (generated on first use), then the leaderboard markdown. One worker, so the timing table
# shows per-image latency rather than throughput under contention (a few minutes, mostly hifst).
DEMO_METHODS ?= gradient laplacian dct svd lbp hifst
demo: $(STAMP)
	@for m in $(DEMO_METHODS); do \
		echo "== dbdbench run --method $$m --dataset synth" >&2; \
		$(BIN)/dbdbench run --method $$m --dataset synth || exit $$?; \
	done
	$(BIN)/dbdbench leaderboard runs --dataset synth --out leaderboards/synth.md

test: $(STAMP)
	$(BIN)/python -m pytest -q

clean-runs:
	rm -rf runs
