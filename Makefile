# Two commands: `make report` (set up + main job, offline) and `make test` (set up + every test).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: report test setup setup-test bench clean strip-notebooks

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed
setup-test: $(VENV)/.installed-test

report: setup
	$(PY) -m evidence_review report

test: setup-test
	$(PY) -m pytest tests notebooks --nbmake -q

bench: setup
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) scripts/bench_parse.py
	$(PY) scripts/bench_pull.py
	$(PY) scripts/bench_report.py

strip-notebooks:
	$(PY) -m evidence_review.notebook_tools strip notebooks/*.ipynb

clean:
	rm -rf $(VENV) .pytest_cache
