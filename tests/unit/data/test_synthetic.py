import numpy as np
import pytest

from hiergenre.config import FeatureConfig
from hiergenre.data.datasets import load_dataset
from hiergenre.data.synthetic.corpus import GENRES, synthesize_clip, write_corpus
from hiergenre.features.lmfcc import lmfcc


def test_deterministic_and_distinct_per_index():
    a = synthesize_clip("jazz", 0, seconds=2.0, seed=5)
    assert np.array_equal(a, synthesize_clip("jazz", 0, seconds=2.0, seed=5))
    assert not np.array_equal(a, synthesize_clip("jazz", 1, seconds=2.0, seed=5))
    assert len(a) == 44100 and np.max(np.abs(a)) <= 1.0


def test_unknown_genre():
    with pytest.raises(ValueError, match="unknown synthetic genre"):
        synthesize_clip("polka", 0)


def test_genres_are_learnable_but_not_trivial():
    """LMFCC statistics + nearest centroid beat chance clearly, yet do not separate everything."""
    cfg = FeatureConfig()
    stats = {
        g: [np.r_[f.mean(0), f.std(0)] for f in (lmfcc(synthesize_clip(g, i, seconds=6.0), cfg) for i in range(4))]
        for g in GENRES
    }
    x = np.array([s for g in GENRES for s in stats[g]])
    y = np.repeat(np.arange(len(GENRES)), 4)
    x = (x - x.mean(0)) / x.std(0)
    hits = 0
    for i in range(len(x)):  # leave-one-out nearest centroid
        mask = np.arange(len(x)) != i
        centroids = np.array([x[mask & (y == k)].mean(0) for k in range(len(GENRES))])
        hits += int(np.argmin(((centroids - x[i]) ** 2).sum(1)) == y[i])
    accuracy = hits / len(x)
    assert 0.3 < accuracy < 1.0


def test_write_corpus_layout_is_gtzan_like(tmp_path):
    root = write_corpus(tmp_path, clips_per_genre=2, seconds=1.0, genres=("rock", "pop"))
    ds = load_dataset(root)
    assert ds.genres == ["pop", "rock"]
    assert sorted(c.path.name for c in ds.clips) == ["pop.00000.au", "pop.00001.au", "rock.00000.au", "rock.00001.au"]
    assert "SYNTHETIC" in (tmp_path / "SYNTHETIC.txt").read_text()
