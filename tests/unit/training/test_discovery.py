import numpy as np
import pytest

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.errors import HierGenreError
from hiergenre.training.discovery import learn_tree, learned_yaml, tree_from_affinity

GENRES = ["a", "b", "c", "d", "e"]


def block_affinity():
    """a, b and c confuse each other; d and e confuse each other; the blocks barely mix."""
    affinity = np.full((5, 5), 0.01)
    affinity[:3, :3] = 0.3
    affinity[3:, 3:] = 0.45
    return affinity


def test_clusters_follow_the_confusion_blocks():
    tree = tree_from_affinity(GENRES, block_affinity(), 2, "learned")
    assert sorted(tree.leaves_under(c) for c in tree.children("root")) == [["a", "b", "c"], ["d", "e"]]


def test_a_genre_alone_in_its_cluster_hangs_under_the_root():
    affinity = block_affinity()
    affinity[4, :] = affinity[:, 4] = 0.0
    tree = tree_from_affinity(GENRES, affinity, 3, "learned")
    # e now shares nothing, so d has no partner either: {a, b, c}, d, e
    assert tree.children("root") == ["a_b_c", "d", "e"]
    assert tree.model_nodes == ["root", "a_b_c"]


def test_group_count_is_checked():
    with pytest.raises(HierGenreError, match="--groups must be between 2 and 4"):
        tree_from_affinity(GENRES, block_affinity(), 5, "learned")


def test_learn_tree_from_clips_and_yaml_round_trip():
    rng = np.random.default_rng(0)
    centres = {"a": 0.0, "b": 0.3, "c": 0.6, "d": 8.0, "e": 8.3, "f": 8.6}
    clips, labels = [], []
    for genre, centre in centres.items():
        for _ in range(8):
            clips.append(rng.normal(centre, 1.0, size=(40, 4)))
            labels.append(genre)
    learned = learn_tree(clips, labels, groups=2, seed=0)
    groups = sorted(learned.tree.leaves_under(c) for c in learned.tree.children("root"))
    assert groups == [["a", "b", "c"], ["d", "e", "f"]]
    assert learned.clips == 48 and 0 <= learned.out_of_fold_accuracy <= 1
    text = learned_yaml(learned, "test data")
    assert text.startswith("# Learned by")
    assert GenreTree.from_yaml_text(text) == learned.tree


def test_learning_needs_enough_data():
    with pytest.raises(HierGenreError, match="at least 3 genres"):
        learn_tree([np.zeros((5, 2))] * 4, ["a", "a", "b", "b"])
    with pytest.raises(HierGenreError, match="at least 2 training clips"):
        learn_tree([np.zeros((5, 2))] * 4, ["a", "b", "c", "c"])
