# Two entry points for a fresh Debian 12 / Python 3.11 machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := build
COLLECTIONS := $(BUILD)/collections
LAB := $(BUILD)/lab
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := false

.PHONY: demo test system-deps unit molecule sanity lint collection clean role-docs

$(VENV)/.installed: requirements.txt requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

collection: $(VENV)/.installed
	rm -rf $(BUILD)/dist $(COLLECTIONS)
	$(BIN)/ansible-galaxy collection build --force --output-path $(BUILD)/dist .
	$(BIN)/ansible-galaxy collection install --force --offline -p $(COLLECTIONS) $(BUILD)/dist/homelab-nas-*.tar.gz

demo: collection
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/demo.sh $(LAB)

test: system-deps unit molecule sanity lint

system-deps:
	bash tests/system-deps.sh

unit: $(VENV)/.installed
	$(BIN)/pytest

# Until a scenario named "default" exists, Molecule logs a harmless "default/molecule.yml glob failed"
# (it looks there for shared state) and goes on with every scenario.
molecule: collection
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test --all

sanity: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/sanity.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/antsibull-changelog lint
	$(BIN)/ansible-lint --nocolor

# roles/*/README.md from each role's meta/argument_specs.yml (tests/unit/test_role_docs.py checks they agree).
role-docs: $(VENV)/.installed
	$(BIN)/python -m tests.utils.role_docs

clean:
	rm -rf $(BUILD) tests/output collections
