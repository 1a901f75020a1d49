from collections import Counter
from pathlib import Path

import pytest

from hiergenre.data.datasets import Clip, check_split, id_split, kfold_splits, load_dataset, parse_split, ratio_split
from hiergenre.errors import HierGenreError


def clips(per_genre=10, genres=("a", "b", "c")):
    return [Clip(Path(f"/d/{g}/{g}.{i:05d}.au"), g) for g in genres for i in range(per_genre)]


def test_folder_per_genre_and_gtzan_parent(folder_dataset):
    ds = load_dataset(folder_dataset)
    assert ds.genres == ["blues", "jazz", "metal", "pop"]
    assert len(ds.clips) == 21  # the broken file is listed; it fails later, at decoding
    parent = folder_dataset.parent / "gtzan"
    (parent).mkdir()
    (parent / "genres").symlink_to(folder_dataset)
    assert len(load_dataset(parent).clips) == 21


def test_csv_manifest(tmp_path, folder_dataset):
    manifest = tmp_path / "m.csv"
    manifest.write_text("path,genre\ndata/blues/blues.00000.wav,blues\ndata/jazz/jazz.00001.wav,jazz\n")
    ds = load_dataset(manifest)
    assert [c.genre for c in ds.clips] == ["blues", "jazz"]
    assert ds.clips[0].path.exists()
    bad = tmp_path / "bad.csv"
    bad.write_text("file,label\nx,y\n")
    with pytest.raises(HierGenreError, match="'path' and 'genre'"):
        load_dataset(bad)


def test_missing_or_empty_data(tmp_path):
    with pytest.raises(HierGenreError, match="not found"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty" / "jazz").mkdir(parents=True)
    with pytest.raises(HierGenreError, match="no audio found"):
        load_dataset(tmp_path / "empty")


def test_fingerprint_changes_with_data(folder_dataset):
    before = load_dataset(folder_dataset).fingerprint()
    (folder_dataset / "jazz" / "jazz.00000.wav").write_bytes(b"x" * 10)
    assert load_dataset(folder_dataset).fingerprint() != before


def test_paper_split_is_70_10_20_per_genre_seeded_and_disjoint():
    data = clips()
    split = parse_split("paper", data, seed=3)
    for part, n in (("train", 7), ("valid", 1), ("test", 2)):
        assert Counter(c.genre for c in split.part(part)) == {"a": n, "b": n, "c": n}
    ids = [c.path for p in ("train", "valid", "test") for c in split.part(p)]
    assert sorted(ids) == sorted(c.path for c in data)
    assert parse_split("paper", data, seed=3) == split
    assert parse_split("paper", data, seed=4).test != split.test


def test_ratio_spec_and_tiny_genres_keep_a_training_clip():
    split = parse_split("80/20/0", clips(), seed=0)
    assert (len(split.train), len(split.valid), len(split.test)) == (24, 6, 0)
    small = ratio_split(clips(per_genre=1), (0.7, 0.1, 0.2))
    assert len(small.train) == 3
    with pytest.raises(HierGenreError, match="unknown split"):
        parse_split("70-10-20", clips())


def test_id_split_matches_by_clip_id_whatever_the_extension(tmp_path):
    for part, ids in (("train", ["a/a.00000.wav", "b.00001"]), ("valid", ["a/a.00002.wav"]), ("test", ["zz.1"])):
        (tmp_path / f"{part}.txt").write_text("\n".join(ids) + "\n")
    split = id_split(clips(), tmp_path)
    assert [c.clip_id for c in split.train] == ["a.00000", "b.00001"]
    assert [c.clip_id for c in split.valid] == ["a.00002"]
    assert split.test == ()
    assert "3 of 30" in split.description


def test_shipped_fault_filtered_split_has_published_sizes():
    from hiergenre.data.datasets import SHIPPED_SPLITS

    sizes = [
        len((SHIPPED_SPLITS / "gtzan-fault-filtered" / f"{p}.txt").read_text().split())
        for p in ("train", "valid", "test")
    ]
    assert sizes == [443, 197, 290]
    gtzan_like = [Clip(Path(f"/g/{g}/{g}.{i:05d}.au"), g) for g in ("blues", "jazz") for i in range(100)]
    split = parse_split("gtzan-fault-filtered", gtzan_like)
    assert {c.clip_id for c in split.valid} >= {"blues.00000", "blues.00001"}


def test_kfold_is_stratified_and_partitions_clips():
    folds = kfold_splits(clips(per_genre=10), 5, seed=0)
    assert len(folds) == 5
    tests = [c.path for f in folds for c in f.test]
    assert sorted(tests) == sorted(c.path for c in clips())
    for fold in folds:
        assert Counter(c.genre for c in fold.test) == {"a": 2, "b": 2, "c": 2}
        assert not set(fold.test) & set(fold.train) and not set(fold.valid) & set(fold.train)
    with pytest.raises(HierGenreError, match="needs 5 clips per genre"):
        kfold_splits(clips(per_genre=3), 5)


def test_kfold_split_spec():
    data = clips(per_genre=5)
    assert parse_split("kfold:5:2", data, seed=1) == kfold_splits(data, 5, seed=1)[1]
    with pytest.raises(HierGenreError, match="does not exist"):
        parse_split("kfold:5:6", data)
    with pytest.raises(HierGenreError, match="kfold:5:1"):
        parse_split("kfold:five", data)


def test_halves_train_on_one_half_and_test_on_the_other():
    data = clips(per_genre=10)[::-1]  # the input order must not matter: file names give it
    first = parse_split("halves:1", data)
    ids = lambda part: sorted(c.clip_id for c in part if c.genre == "a")  # noqa: E731
    assert ids(first.train) == [f"a.{i:05d}" for i in range(4)]
    assert ids(first.valid) == ["a.00004"]
    assert ids(first.test) == [f"a.{i:05d}" for i in range(5, 10)]
    second = parse_split("halves:2", data)
    assert ids(second.train) == [f"a.{i:05d}" for i in range(5, 9)]
    assert ids(second.valid) == ["a.00009"]
    assert ids(second.test) == [f"a.{i:05d}" for i in range(5)]
    for split in (first, second):
        assert Counter(c.genre for c in split.test) == {"a": 5, "b": 5, "c": 5}
        assert len(split.train) == 12 and len(split.valid) == 3
    assert "first half" in first.description and "tested on the second half" in first.description
    assert "tested on the first half" in second.description


def test_halves_order_ids_by_value_and_cut_odd_genres_after_n_over_2():
    data = [Clip(Path(f"/d/x/x.{i}.wav"), "x") for i in range(7)] + [Clip(Path("/d/x/x.10.wav"), "x")]
    split = parse_split("halves:1", data)  # 8 clips: x.0-x.3 | x.4-x.6, x.10 (not x.10 after x.1)
    assert [c.clip_id for c in split.train + split.valid] == ["x.0", "x.1", "x.2", "x.3"]
    assert [c.clip_id for c in split.test] == ["x.4", "x.5", "x.6", "x.10"]
    odd = parse_split("halves:2", clips(per_genre=5, genres=("g",)))  # 5 clips: 2 | 3
    assert [c.clip_id for c in odd.test] == ["g.00000", "g.00001"]
    assert [c.clip_id for c in odd.valid] == ["g.00004"]
    tiny = parse_split("halves:1", clips(per_genre=2, genres=("g",)))  # a lone training clip trains
    assert [c.clip_id for c in tiny.train] == ["g.00000"] and tiny.valid == ()


@pytest.mark.parametrize("spec", ["halves:3", "halves:x", "halves:", "halves:1:2"])
def test_halves_spec_refused_in_one_line(spec):
    with pytest.raises(HierGenreError, match="halves:1") as refused:
        check_split(spec)
    assert "\n" not in str(refused.value)


def test_halves_refuse_a_genre_of_one_clip():
    with pytest.raises(HierGenreError, match="at least 2 clips per genre; genre 'b' has 1"):
        parse_split("halves:1", clips(per_genre=4, genres=("a",)) + clips(per_genre=1, genres=("b",)))
