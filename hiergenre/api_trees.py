"""The Python API of trees: build one from a YAML file, FMA's genre list, path labels or data.

Part of :mod:`hiergenre.api` (which re-exports these functions), kept apart so each module stays small.

>>> import hiergenre
>>> tree = hiergenre.build_tree("default", workdir="ws")   # a shipped tree, or a YAML file   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hiergenre.cascade.hierarchy import GenreTree, check_not_reserved
from hiergenre.data.datasets import check_split
from hiergenre.data.taxonomy import FmaTree
from hiergenre.data.trees import load_tree
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.presets import DEFAULT_PRESET, get_preset, with_front_end
from hiergenre.workspace.layout import Workspace

if TYPE_CHECKING:  # training is imported by learn_tree only: predict imports this module
    from hiergenre.training.discovery import LearnedTree

__all__ = ["build_tree", "built_tree_or_none", "fma_tree_file", "labels_tree_file", "learn_tree"]


def at_least_one(value: int, option: str) -> int:
    """``value``, or a one-line error naming the command-line ``option`` when it is below 1."""
    if value < 1:
        raise InvalidValue(f"{option} must be at least 1, got {value}")
    return value


def optional_path(value: str | Path | None) -> str | None:
    """A path argument as the stage functions take it (a string), or None."""
    return None if value is None else str(value)


def build_tree(tree_file: str | Path, *, workdir: str | Path | None = None, draw: bool = True) -> GenreTree:
    """Validate a YAML tree (a file, or a shipped tree's name such as ``default``), store it as the
    workspace's tree, and draw it to ``tree.png``."""
    tree = load_tree(tree_file)
    check_not_reserved(tree)
    workspace = Workspace(workdir)
    workspace.save_built_tree(tree)
    if draw:
        from hiergenre.viz.tree import draw_tree

        draw_tree(tree, workspace.tree_png)
    return tree


def fma_tree_file(
    output: str | Path,
    genres_csv: str | Path,
    *,
    workdir: str | Path | None = None,
    min_tracks: int = 0,
    under: str | None = None,
    force: bool = False,
) -> FmaTree:
    """FMA's genre hierarchy (``genres.csv``) as an editable YAML tree in ``output``, then built.

    Genres with fewer than ``min_tracks`` tracks (FMA's ``#tracks``) are folded into their parent;
    ``under`` keeps one top-level genre's subtree. ``output`` is not overwritten unless ``force``.
    """
    from hiergenre.data.taxonomy import fma_tree, fma_yaml, read_fma_genres

    output = _writable(output, force)
    if min_tracks < 0:
        raise InvalidValue(f"--min-tracks must be 0 or more, got {min_tracks}")
    made = fma_tree(read_fma_genres(genres_csv), name=output.stem, min_tracks=min_tracks, under=under)
    _write_and_build(output, fma_yaml(made, Path(genres_csv).name, min_tracks, under), workdir)
    return made


def labels_tree_file(
    output: str | Path, manifest: str | Path, *, workdir: str | Path | None = None, force: bool = False
) -> GenreTree:
    """The tree that a CSV manifest's path labels imply (``Electronic---House``, ``rock/punk``), written and built."""
    import csv

    from hiergenre.data.taxonomy import label_path, tree_from_label_paths

    output = _writable(output, force)
    try:
        with open(manifest, newline="", encoding="utf-8") as handle:
            labels = [row.get("genre") or "" for row in csv.DictReader(handle)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise HierGenreError(f"cannot read manifest {manifest}: {exc}") from None
    if not any(labels):
        raise HierGenreError(f"manifest {manifest} has no 'genre' labels")
    tree = tree_from_label_paths((label_path(label) for label in labels if label), output.stem)
    header = f"# derived from the path labels of {Path(manifest).name} ({len(labels)} clips)\n"
    _write_and_build(output, header + tree.to_yaml(), workdir)
    return tree


def _writable(output: str | Path, force: bool) -> Path:
    """``output`` as a Path, refused if it exists and ``force`` is not given (it may be a tree the user edited)."""
    output = Path(output)
    if output.exists() and not force:
        raise HierGenreError(f"{output} exists; choose another file or pass --force to overwrite it")
    return output


def _write_and_build(output: Path, text: str, workdir: str | Path | None) -> None:
    from hiergenre.storage import atomic_file

    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(output) as out:
        out.write(text)
    build_tree(output, workdir=workdir)


def learn_tree(
    output: str | Path,
    *,
    workdir: str | Path | None = None,
    data: str | Path | None = None,
    split: str = "paper",
    groups: int = 3,
    seed: int = 0,
    jobs: int = 1,
    force: bool = False,
    features: str | None = None,
    on_extracted: Callable[[], None] | None = None,
) -> LearnedTree:
    """Derive a tree from the train and valid parts of a data set, write it as YAML and build it.

    The test part is never looked at, so a cascade of the learned tree can be scored honestly on
    it. ``output`` is not overwritten unless ``force``: it may be a tree the user edited.
    ``features`` names the front-end whose statistics the genres are clustered by (default musicnn).
    """
    from hiergenre.training.discovery import learn_tree_from_data
    from hiergenre.training.run import resolve_dataset

    if features == "musicnn+lmfcc":
        raise InvalidValue("a tree is learned from one front-end's statistics: --features musicnn or lmfcc")
    output = _writable(output, force)
    check_split(split)
    jobs = at_least_one(jobs, "--jobs")
    workspace = Workspace(workdir)
    dataset = resolve_dataset(optional_path(data), workspace, seed=seed)
    learned = learn_tree_from_data(
        dataset,
        output,
        features=with_front_end(get_preset(DEFAULT_PRESET), features or "musicnn").features,
        cache_dir=workspace.cache_dir,
        split=split,
        groups=groups,
        seed=seed,
        jobs=jobs,
        on_extracted=on_extracted,
    )
    build_tree(output, workdir=workspace.root)
    return learned


def built_tree_or_none(workdir: str | Path | None = None, *, serving: bool = False) -> GenreTree | None:
    """The workspace's built tree, or None when none is built.

    ``serving``: the built tree of the models that predict (the bundled model's when the workspace has no trained tree).
    """
    workspace = Workspace(workdir).serving() if serving else Workspace(workdir)
    return workspace.built_tree() if workspace.tree_file.exists() else None
