# Two entry points for a fresh Debian 12 / Python 3.11 machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD := build
COLLECTIONS := $(BUILD)/collections
LAB := $(BUILD)/lab
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export ANSIBLE_FORCE_COLOR := false

.PHONY: demo test system-deps unit units integration system molecule sanity lint ee importer matrix docs collection \
  clean role-docs bench

$(VENV)/.installed: requirements.txt requirements-test.txt tests/constraints.txt
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

# The stages in two lanes at once (tests/stages.sh), on the collection built once here.
test: system-deps $(VENV)/.installed collection
	bash tests/stages.sh

# What a no-op site.yml costs on the lab, as ratios in one call (tests/bench; docs/performance.md has the figures).
# Not a test and not part of `make test`. Sizes and runs: BENCH_PAIRS, BENCH_HOSTS, BENCH_SERVICES.
bench: collection
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m tests.bench $(BUILD)/bench

system-deps:
	bash tests/system-deps.sh

# tests/unit through `ansible-test units` and tests/integration/targets through `ansible-test integration` (as any
# collection's); the system tests (tests/system: whole playbooks, the lab's real components, public clients) with
# pytest, one test file per worker, a worker per core (the netns tests share one set of namespaces per file).
unit: units integration system

units: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/ansible_test.sh units

integration: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/ansible_test.sh integration

system: $(VENV)/.installed
	$(BIN)/pytest -n auto --dist loadfile --durations=15 tests/system

# Until a scenario named "default" exists, Molecule logs a harmless "default/molecule.yml glob failed"
# (it looks there for shared state) and goes on with every scenario.
molecule: collection
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/molecule test --all

sanity: $(VENV)/.installed
	PATH="$(CURDIR)/$(BIN):$$PATH" bash tests/ansible_test.sh sanity

# ansible-lint and galaxy-importer with a HOME of their own: a homelab.nas installed earlier in ~/.ansible/collections
# would shadow the one being checked (build/collections, ansible.cfg).
LINT_HOME := $(CURDIR)/$(BUILD)/lint-home

lint: collection
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/antsibull-changelog lint
	$(BIN)/antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
	$(BIN)/antsibull-changelog generate --output $(BUILD)/CHANGELOG.rst --output-format rst
	diff -u CHANGELOG.rst $(BUILD)/CHANGELOG.rst \
	  || { echo "FAIL: CHANGELOG.rst is not what changelogs/changelog.yaml gives (antsibull-changelog generate)" >&2; exit 1; }
	mkdir -p $(LINT_HOME) && HOME=$(LINT_HOME) $(BIN)/ansible-lint --nocolor

# The execution environment's build context in build/ee (building the image needs a container engine, which
# this machine has not): ansible-builder accepts execution-environment.yml, and finds the collection's own
# requirements through its meta/execution-environment.yml.
ee: collection
	cp $(BUILD)/dist/homelab-nas-*.tar.gz $(BUILD)/dist/homelab-nas.tar.gz
	rm -rf $(BUILD)/ee
	$(BIN)/ansible-builder create -f execution-environment.yml -c $(BUILD)/ee
	$(BIN)/ansible-builder introspect $(COLLECTIONS) --sanitize > $(BUILD)/ee/introspect.txt
	grep -q "cryptography>=42" $(BUILD)/ee/introspect.txt && grep -q "libffi-devel" $(BUILD)/ee/introspect.txt \
	  || { cat $(BUILD)/ee/introspect.txt; echo "FAIL: the collection's EE requirements were not found" >&2; exit 1; }

# Galaxy's import of the built tarball (the collection, its docs, ansible-lint on its content) must pass
# without a single warning.
IMPORTER_HOME := $(CURDIR)/$(BUILD)/importer-home

importer: collection
	mkdir -p $(IMPORTER_HOME) && cd $(BUILD) && HOME=$(IMPORTER_HOME) PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/python -m galaxy_importer.main dist/homelab-nas-*.tar.gz > importer.log 2>&1 \
	  || { cat importer.log; exit 1; }
	! grep -E "^(WARNING|ERROR)" $(BUILD)/importer.log

# The other supported ansible-core releases (tests/matrix.txt), each in its own venv: unit tests and a site.yml
# smoke run against the lab.
matrix: collection
	bash tests/matrix.sh

# The docs site (antsibull-docs + Sphinx, in build/docs-venv): build/docsite/build/html.
docs: collection
	bash tests/docs.sh

# roles/*/README.md from each role's meta/argument_specs.yml (tests/unit/test_role_docs.py checks they agree).
role-docs: $(VENV)/.installed
	$(BIN)/python -m tests.utils.role_docs

clean:
	rm -rf $(BUILD) tests/output collections
