# The course's two commands (see README.md):
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run every test (unit tests, ruff, every notebook,
#               the browser tests)
#   make slides build the lecture decks (build/slides/index.html); PROFILE=smoke for a quick build
# Set-up is idempotent: a stamp file records it, and it is redone only when
# requirements.txt or pyproject.toml change. GPU on Linux: `make setup EXTRAS=gpu`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coursekit-installed$(if $(EXTRAS),-$(EXTRAS))
EXTRAS ?=
COURSEKIT_PROFILE ?= smoke
NOTEBOOKS ?=
NOTEBOOK_TIMEOUT ?= 900

.PHONY: setup lab test unit notebooks browser lint export check-export check-slides tidy \
	slides bench strip clean-venv

setup: $(STAMP) node_modules/.package-lock.json chromium

# The decks' JavaScript (reveal.js, MathJax), pinned in package.json / package-lock.json.
# Without Node.js the course still opens; only `make slides` and the browser tests need it.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null; then npm ci --no-audit --no-fund --ignore-scripts && touch $@; \
	else echo "warning: npm not found: install Node.js and run make setup again to build the decks"; fi

# The browser tests drive Debian's Chromium (never a downloaded one); installed with apt-get
# if missing (as root, or through sudo). Where that is impossible the browser tests say so.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
chromium:
	@command -v chromium >/dev/null || test -x "$$CHROMIUM" || ! command -v apt-get >/dev/null || { \
		echo "installing Debian's chromium for the browser tests"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium \
		|| echo "warning: could not install chromium; the browser tests need it"; }

$(STAMP): requirements.txt pyproject.toml jupyter/overrides.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	$(if $(EXTRAS),$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]")
	$(BIN)/python -m ipykernel install --sys-prefix --name coursekit --display-name "Python (coursekit)"
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $@

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

test: setup lint check-export check-slides unit notebooks browser

lint: setup
	$(BIN)/ruff check .

# The notebooks' #@save cells are the model code; this writes them to coursekit/models.
export: setup
	$(BIN)/python -m coursekit.export

check-export: setup
	$(BIN)/python -m coursekit.export --check

unit: setup
	$(BIN)/python -m pytest -q -m "not browser" tests

# Decks and JupyterLab in headless Chromium (after `notebooks`, whose checkpoints they reuse).
browser: setup
	$(BIN)/python -m pytest -q -m browser -p no:cacheprovider tests

# Every cell's slideshow metadata follows the convention of coursekit/slides.py.
check-slides: setup
	$(BIN)/python -m coursekit.slides --check

tidy: setup
	$(BIN)/python -m coursekit.slides --tidy

# One reveal.js deck per notebook plus an index, executed in PROFILE (default: the course's
# default, cpu or gpu; PROFILE=smoke takes minutes), written to build/slides/.
slides: setup
	$(if $(PROFILE),COURSEKIT_PROFILE=$(PROFILE)) $(BIN)/python -m coursekit.slides --build --execute \
		--timeout $(NOTEBOOK_TIMEOUT) $(NOTEBOOKS)

notebooks: setup
	COURSEKIT_PROFILE=$(COURSEKIT_PROFILE) COURSEKIT_STATIC_WIDGETS=1 $(BIN)/python -m pytest -q --nbval-lax \
		--nbval-cell-timeout=$(NOTEBOOK_TIMEOUT) -p no:cacheprovider notebooks

bench: setup
	$(BIN)/python -m coursekit.bench $(NAME) --profile $(or $(PROFILE),cpu) $(if $(SEED),--seed $(SEED))

# Notebooks are committed without outputs: run this after editing one in JupyterLab.
strip: setup
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean-venv:
	rm -rf $(VENV)
