# The course's two commands (see README.md):
#   make lab    set up the Python environment and open the course in JupyterLab
#   make test   set up what the tests need and run every test (unit tests, ruff, every
#               notebook, the browser tests)
#   make slides build the lecture decks (slides/build/index.html)
# Set-up by need: `lab` installs only the Python environment and the kernel; `slides` adds the
# decks' JavaScript (npm), `test` adds that and Debian's Chromium. Each step is idempotent (a
# stamp file records it) and redone only when its inputs change. GPU: `make setup EXTRAS=gpu`.
#
# PROFILE is the one compute-budget knob (smoke, cpu or gpu). Its default depends on the
# target: lab and slides use the course's default (gpu where TensorFlow sees a GPU, else
# cpu), test and notebooks smoke, bench cpu.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coursekit-installed$(if $(EXTRAS),-$(EXTRAS))
EXTRAS ?=
PROFILE ?=
NOTEBOOKS ?=
NOTEBOOK_TIMEOUT ?= 900
# Test processes side by side (pytest-xdist; the project's machine has 2 cores), scheduled
# by tests/scheduling.py: a test file, or a notebook, per worker at a time. JOBS=1: one process.
JOBS ?= 2
XDIST := -p tests.scheduling $(if $(filter-out 0 1,$(JOBS)),-n $(JOBS))

.PHONY: setup deck-js lab test unit notebooks browser lint export check-export check-slides \
	tidy slides solutions check-exercises bench seeds results check-results strip clean-venv

# The Python environment and the kernel: all that `make lab` needs.
setup: $(STAMP)

# The decks' JavaScript (reveal.js, MathJax), pinned in package.json / package-lock.json:
# needed by `make slides` and the browser tests, never by the lab.
deck-js: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js (it brings npm)" \
		"to build the decks, then run this command again"; exit 1; }
	npm ci --no-audit --no-fund --ignore-scripts
	touch $@

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
	$(if $(PROFILE),COURSEKIT_PROFILE=$(PROFILE)) $(BIN)/jupyter lab \
		$(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

test: setup deck-js chromium lint check-export check-results check-slides check-exercises unit \
	notebooks browser

lint: setup
	$(BIN)/ruff check .

# The notebooks' #@save cells are the model code; this writes them to coursekit/models.
export: setup
	$(BIN)/python -m coursekit.tools.export

# Every exercise's worked solution still applies to its notebook (solutions/).
check-exercises: setup
	$(BIN)/python -m coursekit.tools.exercises --check

check-export: setup
	$(BIN)/python -m coursekit.tools.export --check

unit: setup
	COURSEKIT_PROFILE=$(or $(PROFILE),smoke) $(BIN)/python -m pytest -q $(XDIST) -m "not browser" tests

# Decks and JupyterLab in headless Chromium (after `notebooks`, whose checkpoints they reuse).
browser: setup deck-js chromium
	COURSEKIT_PROFILE=$(or $(PROFILE),smoke) $(BIN)/python -m pytest -q $(XDIST) -m browser \
		-p no:cacheprovider tests

# Every cell's slideshow metadata follows the convention of coursekit/tools/slides.py.
check-slides: setup
	$(BIN)/python -m coursekit.tools.slides --check

tidy: setup
	$(BIN)/python -m coursekit.tools.slides --tidy

# One reveal.js deck per notebook plus an index, executed in PROFILE (default: the course's
# default, cpu or gpu; PROFILE=smoke takes minutes), written to slides/build/.
slides: setup deck-js
	$(if $(PROFILE),COURSEKIT_PROFILE=$(PROFILE)) $(BIN)/python -m coursekit.tools.slides --build --execute \
		--timeout $(NOTEBOOK_TIMEOUT) $(NOTEBOOKS)

# The notebooks on JOBS workers, longest first (tests/scheduling.py); reused models are trained
# once. Each runs whole, followed by its exercises' harness (coursekit/tools/exercises.py):
# every check must fail as the notebook stands, then pass with its worked solution applied.
EXERCISED := build/exercised
notebooks: setup
	rm -rf $(EXERCISED)
	$(BIN)/python -m coursekit.tools.exercises --exercised $(EXERCISED) $(NOTEBOOKS)
	COURSEKIT_PROFILE=$(or $(PROFILE),smoke) COURSEKIT_STATIC_WIDGETS=1 $(BIN)/python -m pytest -q \
		$(XDIST) --nbval-lax --nbval-cell-timeout=$(NOTEBOOK_TIMEOUT) \
		-p no:cacheprovider $(EXERCISED)

# The notebooks with their exercises solved (solutions/build/NN_name-exercise-all.ipynb), to
# open in JupyterLab; one exercise: python -m coursekit.tools.exercises --solve 02_vae 3
solutions: setup
	for n in notebooks/[0-9][0-9]_*.ipynb; do $(BIN)/python -m coursekit.tools.exercises --solve $$n all || exit 1; done

# A new report per run, results/reports/NAME-PROFILE-seedS-UTCTIME.json (samples: reports/).
bench: setup
	$(BIN)/python -m coursekit.tools.bench $(NAME) --profile $(or $(PROFILE),cpu) $(if $(SEED),--seed $(SEED))

# The seed sweep (not part of `test`: one notebook stage per seed): every notebook, or those
# in NOTEBOOKS, on each of SEEDS in PROFILE (default smoke); a report in results/reports/.
seeds: setup
	$(if $(SEEDS),,$(error name the seeds: make seeds SEEDS="1234 7 11 12 13"))
	$(BIN)/python -m coursekit.tools.sweep --seeds $(SEEDS) --profile $(or $(PROFILE),smoke) \
		--jobs $(JOBS) $(NOTEBOOKS)

# The results page, results/README.md, from every report in results/reports/; --check fails
# when the committed page differs from what the reports give.
results: setup
	$(BIN)/python -m coursekit.tools.results

check-results: setup
	$(BIN)/python -m coursekit.tools.results --check

# Notebooks are committed without outputs: run this after editing one in JupyterLab.
strip: setup
	$(BIN)/jupyter nbconvert --clear-output --inplace notebooks/*.ipynb

clean-venv:
	rm -rf $(VENV)
