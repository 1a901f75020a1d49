"""Data sets of labelled clips and their train/valid/test splits.

Accepted layouts: the GTZAN layout (``genres/<genre>/<file>``, or its parent folder), any
folder-per-genre layout, and a CSV manifest with ``path,genre`` columns (paths relative to the
CSV). Splits: the paper's per-genre 70/10/20 after a seeded shuffle within each genre, other
ratios such as ``80/20/0``, stratified k-fold, artist-ordered halves, and splits given as files
of clip ids (such as the shipped artist-filtered GTZAN split).
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from hiergenre.config import AUDIO_EXTENSIONS
from hiergenre.data.splits_ordered import HALVES_PREFIX, halves_number, halves_parts
from hiergenre.data.taxonomy import label_path
from hiergenre.errors import HierGenreError, InvalidValue

PARTS = ("train", "valid", "test")
SHIPPED_SPLITS = Path(__file__).parent.parent / "splits"
#: What ``--data`` takes, for the messages that refuse something else.
DATA_SET_WANTED = (
    f"--data wants a folder holding one folder per genre of audio files ({', '.join(AUDIO_EXTENSIONS)}), "
    "such as GTZAN's genres/, or a CSV manifest with path,genre columns"
)


@dataclass(frozen=True)
class Clip:
    """One labelled audio file."""

    path: Path
    genre: str
    #: The part a data set's own split puts it in (``train``, ``valid``, ``test``; FMA's), or empty.
    part: str = ""

    @property
    def clip_id(self) -> str:
        """The file name without extension (``blues.00000``): how split lists name clips."""
        return self.path.stem


@dataclass(frozen=True)
class Dataset:
    """Labelled clips found under ``root``."""

    root: Path
    clips: tuple[Clip, ...]
    synthetic: bool = False
    #: What loading left out and why (FMA tracks without a usable label or audio), for the summary.
    notes: tuple[str, ...] = ()
    #: The train-all options that find this data again from any folder (``--data /abs/path``, with
    #: ``--metadata /abs/tracks.csv`` for FMA), recorded in manifests and repeated by hints; empty
    #: for the embedded synthetic corpus (train-all without ``--data``).
    data_options: tuple[str, ...] = ()

    @property
    def genres(self) -> list[str]:
        """Genres present, sorted."""
        return sorted({c.genre for c in self.clips})

    def fingerprint(self) -> str:
        """Hash of relative paths, genres and file sizes: changes when the data changes."""
        digest = hashlib.sha1()
        for clip in sorted(self.clips, key=lambda c: str(c.path)):
            rel = self.relative(clip.path)
            size = clip.path.stat().st_size if clip.path.exists() else -1
            digest.update(f"{rel}\t{clip.genre}\t{size}\n".encode())
        return digest.hexdigest()[:16]

    def relative(self, path: Path) -> str:
        """``path`` relative to the data set root when inside it."""
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def without(self, paths: Iterable[str | Path]) -> Dataset:
        """The same data set minus some files (those that failed to decode)."""
        drop = {str(p) for p in paths}
        return replace(self, clips=tuple(c for c in self.clips if str(c.path) not in drop))

    def keeping(self, genres: Iterable[str]) -> Dataset:
        """The same data set with only the clips labelled with one of ``genres``."""
        keep = set(genres)
        return replace(self, clips=tuple(c for c in self.clips if c.genre in keep))


def is_audio(path: Path) -> bool:
    """True for a file with one of the audio extensions the loader accepts."""
    return path.is_file() and path.suffix.lower() in AUDIO_EXTENSIONS


def load_dataset(location: str | Path) -> Dataset:
    """Find labelled clips in a folder-per-genre tree or a CSV manifest (FMA's layout, which needs
    its ``tracks.csv`` too: :func:`hiergenre.data.fma.load_labelled`)."""
    location = Path(location)
    if not location.exists():
        raise HierGenreError(f"data set not found: {location}")
    if is_audio(location):
        raise HierGenreError(f"{location} is an audio file, not a data set: {DATA_SET_WANTED}")
    if location.is_file():
        return _load_manifest(location)
    if (location / "genres").is_dir():
        location = location / "genres"
    clips = []
    for genre_dir in sorted(p for p in location.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files = sorted(p for p in genre_dir.rglob("*") if is_audio(p))
        clips.extend(Clip(f, genre_dir.name) for f in files)
    if not clips:
        loose = sum(1 for p in location.iterdir() if is_audio(p))
        if loose:  # a single genre's folder, such as genres/rock
            raise HierGenreError(
                f"{location} holds {loose} audio files itself, not one folder per genre: give the folder "
                f"above the genre folders (such as {location.parent}), or a CSV manifest with path,genre columns"
            )
        raise HierGenreError(f"no audio found in {location}: {DATA_SET_WANTED}")
    return Dataset(location, tuple(clips))


def _load_manifest(path: Path) -> Dataset:
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except UnicodeDecodeError:
        raise HierGenreError(f"{path} is not a CSV manifest (it is not text): {DATA_SET_WANTED}") from None
    except (OSError, csv.Error) as exc:
        raise HierGenreError(f"cannot read manifest {path}: {exc}") from None
    if not rows or not {"path", "genre"} <= set(rows[0]):
        raise HierGenreError(f"manifest {path} needs a header with 'path' and 'genre' columns")
    clips = []
    for number, row in enumerate(rows, start=2):
        if not row["path"] or not row["genre"]:
            raise HierGenreError(f"manifest {path}, line {number}: empty path or genre")
        file = Path(row["path"])
        try:
            label = label_path(row["genre"])[-1]  # "Electronic---House" and "electronic/house" name the genre last
        except HierGenreError as exc:
            raise HierGenreError(f"manifest {path}, line {number}: {exc}") from None
        clips.append(Clip(file if file.is_absolute() else path.parent / file, label))
    return Dataset(path.parent, tuple(clips))


# --------------------------------------------------------------------------- splits
@dataclass(frozen=True)
class Split:
    """Clips assigned to train, valid and test, with a description of how."""

    train: tuple[Clip, ...]
    valid: tuple[Clip, ...]
    test: tuple[Clip, ...]
    description: str

    def part(self, name: str) -> tuple[Clip, ...]:
        """One of ``train``, ``valid``, ``test``."""
        return {"train": self.train, "valid": self.valid, "test": self.test}[name]

    def to_dict(self, dataset: Dataset) -> dict[str, object]:
        """JSON-friendly form with paths relative to the data set root, recorded absolute (an
        evaluate run from another folder finds the clips again)."""
        out: dict[str, object] = {"description": self.description, "root": str(Path(dataset.root).resolve())}
        for name in PARTS:
            out[name] = [[dataset.relative(c.path), c.genre] for c in self.part(name)]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Split:
        """Inverse of :meth:`to_dict`."""
        root = Path(data["root"])
        parts = {n: tuple(Clip(root / p, g) for p, g in data[n]) for n in PARTS}
        return cls(parts["train"], parts["valid"], parts["test"], data["description"])


def _by_genre(clips: Sequence[Clip]) -> dict[str, list[Clip]]:
    groups: dict[str, list[Clip]] = defaultdict(list)
    for clip in sorted(clips, key=lambda c: (c.genre, str(c.path))):
        groups[clip.genre].append(clip)
    return groups


def ratio_split(clips: Sequence[Clip], ratios: Sequence[float] = (0.7, 0.1, 0.2), *, seed: int = 0) -> Split:
    """Per genre: shuffle (seeded), then cut into train/valid/test by ``ratios``.

    This is the paper's protocol with the default ratios. Every genre keeps at least one
    training clip.
    """
    if len(ratios) != 3 or min(ratios) < 0 or not np.isclose(sum(ratios), 1.0) or ratios[0] <= 0:
        raise HierGenreError(
            f"split ratios must be three non-negative numbers summing to 1 with train > 0, got {list(ratios)}"
        )
    rng = np.random.default_rng(seed)
    parts: dict[str, list[Clip]] = {n: [] for n in PARTS}
    for genre_clips in _by_genre(clips).values():
        order = [genre_clips[i] for i in rng.permutation(len(genre_clips))]
        n_valid = int(round(len(order) * ratios[1]))
        n_test = int(round(len(order) * ratios[2]))
        n_valid, n_test = _keep_one_for_training(len(order), n_valid, n_test)
        n_train = len(order) - n_valid - n_test
        parts["train"] += order[:n_train]
        parts["valid"] += order[n_train : n_train + n_valid]
        parts["test"] += order[n_train + n_valid :]
    label = "/".join(f"{r * 100:g}" for r in ratios)
    return Split(*(tuple(parts[n]) for n in PARTS), description=f"per-genre {label} split, seed {seed}")


def _keep_one_for_training(total: int, n_valid: int, n_test: int) -> tuple[int, int]:
    while n_valid + n_test >= total and (n_valid or n_test):
        if n_test >= n_valid:
            n_test -= 1
        else:
            n_valid -= 1
    return n_valid, n_test


def kfold_splits(clips: Sequence[Clip], folds: int, *, seed: int = 0, valid_folds: int = 1) -> list[Split]:
    """Stratified k-fold: fold ``i`` is the test part, the next ``valid_folds`` folds validate."""
    from sklearn.model_selection import StratifiedKFold

    if folds < 3:
        raise HierGenreError(f"k-fold needs at least 3 folds (one test, one valid, one train), got {folds}")
    ordered = sorted(clips, key=lambda c: str(c.path))
    labels = [c.genre for c in ordered]
    smallest = min(labels.count(g) for g in set(labels))
    if smallest < folds:
        raise HierGenreError(f"{folds}-fold cross-validation needs {folds} clips per genre; one genre has {smallest}")
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    fold_of = np.empty(len(ordered), dtype=int)
    for fold, (_, test_index) in enumerate(splitter.split(np.zeros(len(ordered)), labels)):
        fold_of[test_index] = fold
    splits = []
    for fold in range(folds):
        valid = {(fold + 1 + j) % folds for j in range(valid_folds)}
        pick = lambda chosen: tuple(c for c, f in zip(ordered, fold_of, strict=True) if f in chosen)  # noqa: E731
        train = set(range(folds)) - valid - {fold}
        description = f"stratified {folds}-fold, fold {fold + 1}, seed {seed}"
        splits.append(Split(pick(train), pick(valid), pick({fold}), description))
    return splits


def entry_id(entry: str) -> str:
    """Clip id of a split-list entry: ``blues/blues.00029.wav`` and ``blues.00029`` both give
    ``blues.00029`` (a numeric suffix is part of the id, not an extension)."""
    path = Path(entry.strip())
    return path.stem if path.suffix and not path.suffix[1:].isdigit() else path.name


def id_split(clips: Sequence[Clip], directory: str | Path) -> Split:
    """Assign clips by the ``train.txt``/``valid.txt``/``test.txt`` lists in ``directory``.

    List entries are clip ids or relative paths; they match dataset files by clip id, whatever
    the extension. Clips in no list are left out.
    """
    directory = Path(directory)
    by_id = {c.clip_id: c for c in clips}
    parts: dict[str, tuple[Clip, ...]] = {}
    for name in PARTS:
        file = directory / f"{name}.txt"
        if not file.is_file():
            raise HierGenreError(f"split directory {directory} has no {name}.txt")
        ids = [entry_id(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
        parts[name] = tuple(by_id[i] for i in ids if i in by_id)
    if not parts["train"]:
        raise HierGenreError(
            f"no clip of the data set is listed in {directory / 'train.txt'} (entries match by clip id)"
        )
    used = sum(len(p) for p in parts.values())
    description = f"clip-id lists from {directory} ({used} of {len(clips)} clips)"
    return Split(parts["train"], parts["valid"], parts["test"], description)


SPLIT_HELP = (
    "use 'paper', ratios summing to 100 such as 80/20/0, kfold:K:I (fold I of K), halves:1 or halves:2, "
    "'gtzan-fault-filtered', 'fma' (FMA's own split), or a directory holding train.txt, valid.txt and test.txt"
)


def check_split(spec: str) -> None:
    """Refuse a malformed ``--split`` value before any audio is read (see :func:`parse_split`)."""
    if spec in ("paper", "fma") or (SHIPPED_SPLITS / spec).is_dir() or Path(spec).is_dir():
        return
    if spec.startswith("kfold:"):
        _kfold_numbers(spec)
    elif spec.startswith(HALVES_PREFIX):
        halves_number(spec)
    elif "/" in spec:
        _ratios(spec)
    else:
        raise InvalidValue(f"unknown split {spec!r}: {SPLIT_HELP}")


def parse_split(spec: str, clips: Sequence[Clip], *, seed: int = 0) -> Split:
    """Turn a ``--split`` value into a split.

    ``paper`` (70/10/20 per genre), ratios like ``80/20/0`` (summing to 100), ``kfold:K:I``, ``halves:1|2``
    (:mod:`~hiergenre.data.splits_ordered`), ``fma``, a shipped split (``gtzan-fault-filtered``) or a folder.
    """
    check_split(spec)
    if spec == "paper":
        return ratio_split(clips, (0.7, 0.1, 0.2), seed=seed)
    if spec == "fma":
        if not any(c.part for c in clips):
            raise HierGenreError("--split fma needs FMA's metadata: --data FMA_AUDIO_DIR --metadata tracks.csv")
        parts = [tuple(c for c in clips if c.part == part) for part in ("train", "valid", "test")]
        return Split(*parts, description="FMA's own training/validation/test split")
    if (SHIPPED_SPLITS / spec).is_dir():
        return id_split(clips, SHIPPED_SPLITS / spec)
    if Path(spec).is_dir():
        return id_split(clips, spec)
    if spec.startswith("kfold:"):
        k, i = _kfold_numbers(spec)
        return kfold_splits(clips, k, seed=seed)[i - 1]
    if spec.startswith(HALVES_PREFIX):
        return Split(*halves_parts(clips, halves_number(spec)))
    return ratio_split(clips, _ratios(spec), seed=seed)


def _ratios(spec: str) -> list[float]:
    """``80/20/0`` as fractions; refused unless three non-negative percentages summing to 100."""
    try:
        numbers = [float(x) for x in spec.split("/")]
    except ValueError:
        numbers = []
    if len(numbers) != 3 or min(numbers) < 0:
        raise InvalidValue(f"split ratios must be three percentages such as 80/20/0, got {spec!r}")
    if abs(sum(numbers) - 100) > 1e-6:
        raise InvalidValue(f"split ratios must sum to 100, got {spec!r} (sum {sum(numbers):g})")
    if numbers[0] == 0:
        raise InvalidValue(f"split {spec!r} leaves no training clip")
    return [n / 100 for n in numbers]


def _kfold_numbers(spec: str) -> tuple[int, int]:
    """``kfold:5:2``: (5, 2), fold 2 (1-based) of a stratified 5-fold split."""
    try:
        _, folds, fold = spec.split(":")
        k, i = int(folds), int(fold)
    except ValueError:
        raise InvalidValue(f"k-fold split must look like kfold:5:1 (fold 1 of 5), got {spec!r}") from None
    if k < 2:
        raise InvalidValue(f"a k-fold split needs at least 2 folds, got {spec!r}")
    if not 1 <= i <= k:
        raise InvalidValue(f"fold {i} does not exist in a {k}-fold split (folds are 1..{k})")
    return k, i
