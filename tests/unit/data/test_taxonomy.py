"""Real taxonomies: FMA's genre table (the shared copy of the published genres.csv) as a tree."""

from pathlib import Path

import pytest

from hiergenre.cascade.hierarchy import GenreTree, valid_name
from hiergenre.data.taxonomy import fma_tree, read_fma_genres, safe_name
from hiergenre.errors import HierGenreError

FMA_GENRES = Path(__file__).resolve().parents[4] / "shared" / "fma" / "genres.csv"
needs_table = pytest.mark.skipif(not FMA_GENRES.is_file(), reason="../shared/fma/genres.csv is not beside the repo")


@needs_table
def test_the_real_fma_table_builds_with_16_roots_and_all_163_genres(tmp_path):
    genres = read_fma_genres(FMA_GENRES)
    made = fma_tree(genres, name="fma")
    assert len(genres) == 163 and len(made.names) == 163
    assert len(made.tree.children("root")) == 16
    assert set(made.tree.preorder()[1:]) == set(made.names.values())  # every genre is a node
    assert all(valid_name(n) for n in made.names.values()) and len(set(made.names.values())) == 163
    by_title = {g.title: made.names[g.id] for g in genres.values()}
    assert by_title["Drum & Bass"] == "Drum-and-Bass" and by_title["Jazz: Vocal"] == "Jazz-Vocal"
    assert made.tree.path_to(by_title["Christmas"])[1:] == [
        "Experimental",
        "Novelty",
        "Sound-Effects",
        "Holiday",
        "Christmas",
    ]
    round_trip = GenreTree.from_yaml_text(made.tree.to_yaml())
    assert round_trip == made.tree
    rare = fma_tree(genres, name="fma", min_tracks=500)
    kept = {g.id for g in genres.values() if g.tracks >= 500}
    assert set(rare.names) <= kept and len(rare.tree.children("root")) <= 16 and rare.folded
    rock = fma_tree(genres, name="rock", under="Rock")
    assert "Punk" in rock.tree.children("root") and "Rock" not in rock.tree.preorder()


@needs_table
def test_build_tree_from_fma_writes_an_editable_file(cli, tmp_path):
    out = tmp_path / "fma.yaml"
    text = cli("build-tree", out, "--from-fma", FMA_GENRES, "--min-tracks", "100", workdir=tmp_path / "ws").stdout
    assert "FMA genres" in text and out.read_text().startswith("# FMA genre hierarchy")
    assert GenreTree.from_file(out).name == "fma" and (tmp_path / "ws" / "tree.png").is_file()
    again = cli("build-tree", out, "--from-fma", FMA_GENRES, workdir=tmp_path / "ws", check=False)
    assert again.returncode == 1 and "--force" in again.stderr
    wrong = cli(
        "build-tree", tmp_path / "x.yaml", "--from-fma", FMA_GENRES, "--under", "Jaz", workdir=tmp_path, check=False
    )
    assert wrong.returncode == 1 and "Jazz" in wrong.stderr


def test_safe_names_and_bad_tables(tmp_path):
    assert safe_name("Breakcore - Hard") == "Breakcore-Hard" and safe_name("Old-Time / Historic") == "Old-Time-Historic"
    bad = tmp_path / "genres.csv"
    bad.write_text("genre_id,title\n1,Rock\n")
    with pytest.raises(HierGenreError, match="columns"):
        read_fma_genres(bad)
    bad.write_text("genre_id,#tracks,parent,title,top_level\n1,10,99,Rock,1\n")
    with pytest.raises(HierGenreError, match="parent ids not in the table: 99"):
        read_fma_genres(bad)
    with pytest.raises(HierGenreError, match="not found"):
        read_fma_genres(tmp_path / "missing.csv")


def test_partial_labels_train_the_nodes_above_their_group_and_score_at_their_depth(cli, tiny_corpus, tmp_path):
    import json

    import numpy as np

    from hiergenre.data.datasets import Clip, Split
    from hiergenre.training.node_data import node_data
    from hiergenre.training.run import restrict_split

    tree = GenreTree.from_file(Path(__file__).resolve().parents[3] / "hierarchies" / "default.yaml")
    clips = [Clip(Path("a.au"), "metal"), Clip(Path("b.au"), "heavy"), Clip(Path("c.au"), "jazz")]
    frames = {str(c.path): np.zeros((10, 13)) for c in clips}
    assert node_data(tree, "root", clips, frames).ids == ["a.au", "b.au", "c.au"]  # heavy is below the root
    assert node_data(tree, "heavy", clips, frames).ids == ["a.au"]  # which child of heavy is unknown
    flat = GenreTree.flat(tree.leaves, "flat")
    assert [c.genre for c in restrict_split(Split(tuple(clips), (), (), "all"), flat).train] == ["metal", "jazz"]
    assert tree.covers("heavy", "heavy") and tree.covers("metal", "heavy") and tree.covers("root", "heavy")
    assert not tree.covers("jazz", "heavy") and not tree.covers("rock", "metal")

    manifest = tmp_path / "labels.csv"  # the metal and rock clips known only as "heavy"
    rows = [
        f"{f},{'heavy' if g in ('metal', 'rock') and f.name.endswith('0.au') else g}"
        for g in tree.leaves
        for f in sorted((tiny_corpus / g).glob("*.au"))
    ]
    manifest.write_text("path,genre\n" + "\n".join(rows) + "\n")
    ws = tmp_path / "ws"
    cli("build-tree", Path(__file__).resolve().parents[3] / "hierarchies" / "default.yaml", workdir=ws)
    trained = cli("train-all", "--data", manifest, "--node-model", "stats", "--no-baseline3", workdir=ws).stdout
    assert "2 clips are labelled with a group (partial labels)" in " ".join(trained.split())
    out = json.loads(cli("evaluate", "--data", manifest, "--json", workdir=ws).stdout)
    for model in ("default", "flat"):
        partial = out["models"][model]["partial"]
        assert partial["clips"] == 2 and 0 <= partial["right_at_depth"] <= 1
        assert out["models"][model]["n_clips"] == 28


def test_path_labels_name_their_genre_last_and_imply_a_tree(cli, tone, tmp_path):
    from hiergenre.data.datasets import load_dataset
    from hiergenre.data.taxonomy import label_path, tree_from_label_paths

    assert label_path("Electronic---House") == ["Electronic", "House"] == label_path(" Electronic / House ")
    assert label_path("Drum & Bass") == ["Drum-and-Bass"]
    with pytest.raises(HierGenreError, match="empty level"):
        label_path("rock//punk")
    tree = tree_from_label_paths([["rock", "punk"], ["rock", "metal"], ["jazz"], ["rock"]], "t")
    assert tree.children("root") == ["jazz", "rock"] and tree.children("rock") == ["metal", "punk"]
    with pytest.raises(HierGenreError, match="appears under both"):
        tree_from_label_paths([["rock", "punk"], ["pop", "punk"]], "t")
    audio = tone("a.wav")
    manifest = tmp_path / "m.csv"
    manifest.write_text(f"path,genre\n{audio},rock---punk\n{audio},rock/metal\n{audio},jazz\n{audio},rock\n")
    assert [c.genre for c in load_dataset(manifest).clips] == ["punk", "metal", "jazz", "rock"]
    cli("build-tree", tmp_path / "labels.yaml", "--from-labels", manifest, workdir=tmp_path / "ws")
    assert GenreTree.from_file(tmp_path / "labels.yaml").leaves == ["jazz", "metal", "punk"]
    both = cli("build-tree", tmp_path / "x.yaml", "--from-labels", manifest, "--learn", workdir=tmp_path, check=False)
    assert both.returncode == 2 and "choose one" in both.stderr


def test_deep_synthetic_corpus_trains_a_three_level_cascade_that_stops_inside(cli, tmp_path):
    import json

    from hiergenre.data.synthetic.deep import deep_styles, deep_tree

    tree = deep_tree()
    assert len(tree.leaves) == 30 and max(tree.depth(g) for g in tree.leaves) == 3 == len(tree.path_to("jazz-slow")) - 1
    assert list(deep_styles()) == tree.leaves
    corpus = tmp_path / "corpus"
    cli("make-corpus", corpus, "--taxonomy", "deep", "--clips-per-genre", "3", "--seconds", "3", workdir=tmp_path)
    ws = tmp_path / "ws"
    cli("build-tree", corpus / "deep.yaml", workdir=ws)
    cli("train-all", "--data", corpus, "--node-model", "stats", "--no-baseline3", workdir=ws)
    clip = corpus / "genres" / "jazz-slow" / "jazz-slow.00000.au"
    out = json.loads(cli("predict", clip, "--min-confidence", "0.6", "--json", workdir=ws).stdout)[0]
    assert out["decoded"]["depth"] <= 3 and out["decoded"]["p"] >= 0.6 or out["decoded"]["depth"] == 0
    scores = json.loads(cli("evaluate", "--json", workdir=ws).stdout)["models"]["deep"]
    assert set(scores["per_level"]) == {"1", "2", "3"} and scores["operating"]["points"]
    wrong = cli("make-corpus", tmp_path / "x", "--taxonomy", "wide", workdir=tmp_path, check=False)
    assert wrong.returncode == 2 and "'deep'" in wrong.stderr
