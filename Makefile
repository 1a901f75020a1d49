# Two commands do all the setup on a fresh machine:
#   make demo   create .venv, install hiergenre, run build-tree -> train-all -> predict on the
#               embedded SYNTHETIC corpus
#   make test   create .venv, install hiergenre with test tools and the cluster extra, run ruff and the
#               test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= .hiergenre
DEMO_EPOCHS ?= 60

.PHONY: install demo test lint clean

# hiergenre/__init__.py holds the version the installed metadata reports
$(BIN)/.installed: pyproject.toml hiergenre/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,cluster]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/hiergenre build-tree hierarchies/default.yaml --workdir $(WORKDIR)
	$(BIN)/hiergenre train-all --epochs $(DEMO_EPOCHS) --workdir $(WORKDIR)
	$(BIN)/hiergenre make-corpus $(WORKDIR)/unseen --clips-per-genre 1 --seed 7
	$(BIN)/hiergenre predict $(WORKDIR)/unseen/genres --workdir $(WORKDIR)

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(WORKDIR)
