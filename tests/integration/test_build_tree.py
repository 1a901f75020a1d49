"""``hiergenre build-tree``: what it says it changed, and trees learned from data."""

from __future__ import annotations

import json

from hiergenre.cascade.hierarchy import GenreTree

SMALL_TREE = "name: small\ntree: {loud: [metal, disco], calm: [classical, jazz]}\n"


def test_an_untrained_built_tree_is_named_with_what_to_run(cli, trained_copy, tiny_corpus, tmp_path):
    """build-tree says the active tree changed; predict and evaluate say what to run."""
    small = tmp_path / "small.yaml"
    small.write_text(SMALL_TREE)
    built = cli("build-tree", small, workdir=trained_copy).stdout
    assert "The built tree is now 'small' (was 'default')" in built and "Next: hiergenre train-all" in built
    refused = cli("predict", tmp_path / "x.au", workdir=trained_copy, check=False)
    assert refused.returncode == 1
    again = f"train it with 'hiergenre train-all --data {tiny_corpus.resolve()}'"  # the data of the trained models
    assert f"{again}, or use a trained tree: --tree baseline3 | default | flat" in refused.stderr
    notes = json.loads(cli("evaluate", "--json", workdir=trained_copy).stdout)["notes"]
    assert any("the built tree 'small' is not trained" in n for n in notes)


def test_build_tree_learn_writes_editable_yaml_and_builds_it(cli, tiny_corpus, tmp_path):
    workdir = tmp_path / "ws"
    target = tmp_path / "mine.yaml"
    options = ["--data", tiny_corpus, "--split", "80/20/0"]
    result = cli("build-tree", target, "--learn", *options, "--groups", "3", workdir=workdir)
    assert "wrote" in result.stdout
    text = target.read_text()
    assert text.startswith("# Learned by") and "name: mine" in text
    learned = GenreTree.from_file(target)
    assert GenreTree.from_file(workdir / "tree.yaml") == learned  # the learned tree is the built one
    assert len(learned.children("root")) == 3 and sorted(learned.leaves) == sorted(
        p.name for p in tiny_corpus.iterdir()
    )
    again = cli("build-tree", target, "--learn", "--data", tiny_corpus, workdir=workdir, check=False)
    assert again.returncode == 1 and "--force" in again.stderr
    assert target.read_text() == text  # the user's file is untouched
    cli("build-tree", target, "--learn", *options, "--groups", "2", "--force", workdir=workdir)
    assert target.read_text() != text and len(GenreTree.from_file(target).children("root")) == 2
