"""Which data a workspace's models were trained on: hints repeat it, other data is refused before
anything is replaced, models of the synthetic corpus are said to be so (issue 27, items 2 and 9).

Every training here uses ``--node-model stats`` (seconds); the shared ``trained`` workspace holds
CNNs trained on ``tiny_corpus``, given to train-all as an absolute path.
"""

from __future__ import annotations

import json
import shutil

import hiergenre.training.run
from hiergenre.workspace.layout import Workspace
from tests.commands import ROOT

STATS = ("--node-model", "stats", "--jobs", "1")
TREES = ("default", "flat", "baseline3")


def test_hints_repeat_the_data_the_workspace_was_trained_on(cli, trained_copy, tiny_corpus, tmp_path):
    clip = tiny_corpus / "jazz" / "jazz.00000.au"
    again = f"'hiergenre train-all --data {tiny_corpus.resolve()}'"
    small = tmp_path / "small.yaml"
    small.write_text("name: small\ntree: {a: [blues, jazz], b: [metal, rock]}\n")
    cli("build-tree", small, workdir=trained_copy)
    refused = cli("predict", clip, workdir=trained_copy, check=False).stderr
    assert f"tree 'small' is not trained in workspace {trained_copy}: train it with {again}" in refused
    notes = json.loads(cli("evaluate", "--json", workdir=trained_copy).stdout)["notes"]
    assert (
        f"the built tree 'small' is not trained, so only flat, baseline3, default are scored: train it with {again}"
        in notes
    )
    shutil.rmtree(trained_copy / "models" / "flat")
    refused = cli("predict", clip, "--tree", "flat", workdir=trained_copy, check=False).stderr
    assert (
        f"tree 'flat' is not trained in workspace {trained_copy}: train-all trains it beside the built tree: {again}"
        in refused
    )
    assert "build-tree" not in refused
    regrouped = tmp_path / "default.yaml"  # the same name, other groups: the models no longer fit it
    regrouped.write_text(
        "name: default\ntree: {a: [blues, jazz, classical, country, rock], b: [metal, pop, disco, hiphop, reggae]}\n"
    )
    cli("build-tree", regrouped, workdir=trained_copy)
    refused = cli("predict", clip, workdir=trained_copy, check=False)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1
    assert f"another version of the tree than the one built now: train them again with {again}" in refused.stderr


def test_train_all_on_other_data_is_refused_before_anything_is_replaced(cli, trained_copy, tiny_corpus, tmp_path):
    def manifests() -> dict[str, str]:
        return {name: (trained_copy / "models" / name / "manifest.json").read_text() for name in TREES}

    before, data = manifests(), tiny_corpus.resolve()
    # what the hints of 0.4 said to run, without --data: the synthetic corpus would replace the models
    refused = cli("train-all", *STATS, workdir=trained_copy, check=False)
    assert refused.returncode == 1 and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert f"were trained on {data}, and this run's data is the embedded SYNTHETIC corpus" in refused.stderr
    assert f"'hiergenre train-all --data {data}'" in refused.stderr and "--replace-data" in refused.stderr
    assert not (trained_copy / "corpus").exists()  # refused before the corpus was written
    other = tmp_path / "other"
    shutil.copytree(tiny_corpus, other)
    (other / "blues" / "blues.00000.au").unlink()  # other files: not the same data moved
    refused = cli("train-all", "--data", other, *STATS, workdir=trained_copy, check=False)
    assert refused.returncode == 1 and f"this run's data is {other.resolve()}:" in refused.stderr
    assert manifests() == before
    cli("train-all", "--data", other, *STATS, "--replace-data", workdir=trained_copy)
    assert Workspace(trained_copy).manifest("flat").dataset["options"] == ["--data", str(other.resolve())]
    assert "--replace-data" in " ".join(cli("train-all", "--help").stdout.split())


def test_models_of_the_synthetic_corpus_say_so_and_give_way_to_real_data(cli, tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(hiergenre.training.run, "SYNTHETIC_CLIPS_PER_GENRE", 3)  # a small corpus: seconds
    workdir = tmp_path / "ws"
    cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=workdir)
    cli("train-all", *STATS, workdir=workdir)
    clip = tiny_corpus / "rock" / "rock.00000.au"
    predicted = cli("predict", clip, workdir=workdir)
    assert "tree default were trained on the embedded SYNTHETIC corpus" in predicted.stderr
    assert "rock.00000.au" in predicted.stdout
    evaluated = cli("evaluate", workdir=workdir)
    assert "trees default, flat, baseline3 were trained on the embedded SYNTHETIC corpus" in evaluated.stderr
    shutil.rmtree(workdir / "models" / "baseline3")
    hint = cli("predict", clip, "--tree", "baseline3", workdir=workdir, check=False).stderr
    assert "'hiergenre train-all' (no --data: the synthetic corpus, as before)" in hint
    cli("train-all", "--data", tiny_corpus, *STATS, workdir=workdir)  # real data replaces the demo's models
    assert "SYNTHETIC" not in cli("predict", clip, workdir=workdir).stderr
