# Two commands do all the setup on a fresh machine:
#   make demo   create .venv, install hiergenre, run build-tree -> train-all -> predict on the
#               embedded SYNTHETIC corpus, then print the score on its unseen clips and the
#               commands for real music
#   make test   create .venv, install hiergenre with test tools, the cluster and beets extras, run ruff and the
#               test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= .hiergenre
# The demo trains the default front-end (musicnn+lmfcc) with its CNNs capped at this many epochs, to stay short.
DEMO_EPOCHS ?= 60

.PHONY: install demo test lint clean

# hiergenre/__init__.py holds the version the installed metadata reports. uv (installed into the venv by pip)
# installs the dependencies in seconds where pip took 40 to 55 s; compiled to bytecode at install, as pip does,
# or every fresh test process compiles TensorFlow's modules again (the tests took 6 min 15 s instead of 4 min 28 s).
$(BIN)/.installed: pyproject.toml hiergenre/__init__.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev,cluster,beets]"
	touch $@

install: $(BIN)/.installed

# The demo's last lines: the cascade's score on the unseen synthetic clips (a clip's folder is its genre),
# read from predict's CSV (the LiteRT models: no TensorFlow to start), then what to run on real music.
DEMO_SCORE = import csv, pathlib, sys; rows = list(csv.DictReader(sys.stdin)); \
	right = sum(row["genre"] == pathlib.Path(row["file"]).parent.name for row in rows); \
	print("score on the", len(rows), "unseen SYNTHETIC clips (generated audio, not music):", right, "of", \
	len(rows), "right (" + format(right / len(rows), ".0%") + ")")

demo: install
	$(BIN)/hiergenre build-tree hierarchies/default.yaml --workdir $(WORKDIR)
	$(BIN)/hiergenre train-all --features musicnn+lmfcc --epochs $(DEMO_EPOCHS) --workdir $(WORKDIR)
	$(BIN)/hiergenre make-corpus $(WORKDIR)/unseen --clips-per-genre 1 --seed 7
	$(BIN)/hiergenre predict $(WORKDIR)/unseen/genres --workdir $(WORKDIR)
	@$(BIN)/hiergenre predict $(WORKDIR)/unseen/genres --workdir $(WORKDIR) -o $(WORKDIR)/unseen/predictions.csv 2>/dev/null
	@echo
	@$(BIN)/python -c '$(DEMO_SCORE)' < $(WORKDIR)/unseen/predictions.csv
	@echo "Every model's scores: $(BIN)/hiergenre evaluate --data $(WORKDIR)/unseen/genres --workdir $(WORKDIR)"
	@echo "These models learned the embedded SYNTHETIC corpus; for real music, train on a folder per genre (e.g. GTZAN):"
	@echo "  $(BIN)/hiergenre train-all --data DIR/genres --workdir real && $(BIN)/hiergenre predict song.mp3 --workdir real"

lint: install
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(WORKDIR)
