import numpy as np
import pytest

from hiergenre.training.augmentation import mask_runs, mixup, random_crops


def test_random_crops_are_contiguous_slices_of_their_clip():
    rng = np.random.default_rng(0)
    clips = [np.arange(50 * 2, dtype=np.float32).reshape(50, 2) + 1000 * i for i in range(3)]
    x, y = random_crops(clips, np.array([0, 1, 2]), window=10, per_clip=4, rng=rng)
    assert x.shape == (12, 10, 2) and list(y) == [0] * 4 + [1] * 4 + [2] * 4
    for crop, label in zip(x, y, strict=True):
        start = int(crop[0, 0] - 1000 * label) // 2
        assert np.array_equal(crop, clips[label][start : start + 10])
    assert len({int(c[0, 0]) for c in x[:4]}) > 1  # starts vary


def test_random_crops_repeat_a_clip_shorter_than_the_window():
    x, _ = random_crops([np.ones((3, 2))], np.array([0]), window=7, per_clip=2, rng=np.random.default_rng(0))
    assert x.shape == (2, 7, 2)


@pytest.mark.parametrize("axis", [1, 2])
def test_mask_runs_blanks_one_run_no_wider_than_asked(axis):
    rng = np.random.default_rng(1)
    x = np.ones((200, 30, 13), np.float32)
    out = mask_runs(x, 5, axis, rng)
    assert np.all(x == 1)  # input untouched
    other = 2 if axis == 1 else 1
    masked = np.all(out == 0, axis=other)  # which positions along ``axis`` are blanked
    widths = masked.sum(axis=1)
    assert widths.max() <= 5 and widths.max() > 0
    for row, width in zip(masked, widths, strict=True):
        if width:
            start = int(np.argmax(row))
            assert row[start : start + width].all()  # one contiguous run
    assert np.array_equal(mask_runs(x, 0, axis, rng), x)


def test_mixup_mixes_inputs_and_labels_alike():
    rng = np.random.default_rng(2)
    x = np.stack([np.full((4, 3), float(i)) for i in range(6)]).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0, 1, 2]]
    mixed_x, mixed_y = mixup(x, y, 0.4, rng)
    assert np.allclose(mixed_y.sum(axis=1), 1)
    assert not np.array_equal(mixed_x, x)
    # every mixed window is constant: a convex mix of two constant windows
    assert np.allclose(mixed_x, mixed_x[:, :1, :1])
    same_x, same_y = mixup(x, y, 0.0, rng)
    assert same_x is x and same_y is y
