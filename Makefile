# The course's two commands (see README.md):
#   make lab    set everything up and open the course in JupyterLab
#   make test   set everything up and run every test (unit tests, ruff, every notebook)
# Set-up is idempotent: a stamp file records it, and it is redone only when
# requirements.txt or pyproject.toml change. GPU on Linux: `make setup EXTRAS=gpu`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.coursekit-installed$(if $(EXTRAS),-$(EXTRAS))
EXTRAS ?=
COURSEKIT_PROFILE ?= smoke
NOTEBOOK_TIMEOUT ?= 900

.PHONY: setup lab test unit notebooks lint export check-export bench strip clean-venv

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version.split()[0]'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e ".$(if $(EXTRAS),[$(EXTRAS)])"
	$(if $(EXTRAS),$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]")
	$(BIN)/python -m ipykernel install --sys-prefix --name coursekit --display-name "Python (coursekit)"
	touch $@

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

test: setup lint check-export unit notebooks

lint: setup
	$(BIN)/ruff check .

# The notebooks' #@save cells are the model code; this writes them to coursekit/models.
export: setup
	$(BIN)/python -m coursekit.export

check-export: setup
	$(BIN)/python -m coursekit.export --check

unit: setup
	$(BIN)/python -m pytest -q tests

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
