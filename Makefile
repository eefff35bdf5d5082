# The two commands a newcomer needs:
#   make demo   run the main job: a pre-change gate against the bundled emulator
#   make test   run every test: sanity, lint, docs, units, emulator tests, integration
#               (on ansible-core 2.16, 2.19 and 2.21), the EE build context
# Everything else here is a piece of those two.

SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3.11
VENV ?= .venv
STAMP := $(VENV)/.installed

.PHONY: demo test venv sanity lint units emulator-test integration build docs-lint changelog-lint clean \
	docs ee units-2.16 integration-2.16 units-2.21 integration-2.21 bench

demo: $(STAMP)
	VENV=$(VENV) scripts/demo.sh

test: $(STAMP)
	VENV=$(VENV) scripts/test.sh

venv: $(STAMP)

# A pinned virtualenv: Python 3.11 with ansible-core 2.19 and the dev tools.
$(STAMP): requirements-dev.txt requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) is required (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	$(VENV)/bin/python -c 'import ansible, requests, jmespath, pytest, hypothesis'
	touch $(STAMP)

sanity lint units emulator-test integration build docs-lint changelog-lint: $(STAMP)
	VENV=$(VENV) scripts/test.sh $@

# The HTML documentation site (antsibull-docs + Sphinx, offline) in .cache/docs.
docs: $(STAMP)
	VENV=$(VENV) scripts/test.sh docs

# The execution environment's build context, introspection and smoke playbook.
ee: $(STAMP)
	VENV=$(VENV) scripts/test.sh ee

# Unit and integration tests on the oldest and newest supported ansible-core,
# each in its own pinned venv under .cache/ (make test runs them too).
units-2.16 integration-2.16 units-2.21 integration-2.21: $(STAMP)
	VENV=$(VENV) scripts/test.sh $@

# The collection against its floors and hand-written uri, side by side (not part
# of `make test`; long: the per-host baselines alone run some 2,300 module tasks).
# Prints a table, writes bench/results/*.json. BENCH_ARGS='--only S1' and so on.
bench: $(STAMP)
	$(VENV)/bin/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .cache tests/output collections .ansible *.tar.gz
