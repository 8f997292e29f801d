# Two entry points a new user needs: `make site` builds the sample portal, `make test` runs every test.
PYTHON ?= python3

.PHONY: site test test-deps golden

site:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e .
	$(PYTHON) -m builder build

test-deps:
	tests/install-deps

test: test-deps
	$(PYTHON) -m pytest

# Rewrite the expected output of the fixture sites after an intended change (then review the diff).
golden:
	UPDATE_GOLDEN=1 $(PYTHON) -m pytest tests/test_golden.py
