"""The artist-ordered halves split (``--split halves:1`` and ``halves:2``).

GTZAN's clips are roughly ordered by artist within each genre, so a random split puts songs of
one artist (often of one album) on both sides and flatters every model. Cutting each genre's
clips in two by file name, training on one half and testing on the other, is the nearest thing
to a test on unseen artists that a small GTZAN subset allows. ``halves:1`` trains on the first
half and tests on the second, ``halves:2`` the reverse; the last training clip of each genre (by
id) validates. This module knows nothing of :mod:`hiergenre.data.datasets` (which imports it):
it works on anything with a ``path`` and a ``genre``.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar

from hiergenre.errors import HierGenreError, InvalidValue

HALVES_PREFIX = "halves:"


class LabelledFile(Protocol):
    """What the split needs of a clip (:class:`hiergenre.data.datasets.Clip` has both)."""

    @property
    def path(self) -> Path:
        """The audio file; its name gives the order."""

    @property
    def genre(self) -> str:
        """The label; each genre is cut in two on its own."""


ClipT = TypeVar("ClipT", bound=LabelledFile)


def halves_number(spec: str) -> int:
    """``halves:1`` gives 1 and ``halves:2`` gives 2; anything else is refused in one line."""
    half = spec.removeprefix(HALVES_PREFIX)
    if half not in ("1", "2"):
        raise InvalidValue(
            f"the halves split is halves:1 (train on each genre's first half of clips by id, test on the "
            f"second) or halves:2 (the reverse), got {spec!r}"
        )
    return int(half)


def natural_key(name: str) -> list[str | int]:
    """Sort key that orders digit runs by value: ``rock.9.au`` before ``rock.10.au``.

    ``re.split`` with a capturing group alternates text and digits, so the same positions hold
    the same types and the keys of any two names compare.
    """
    return [int(token) if index % 2 else token for index, token in enumerate(re.split(r"(\d+)", name))]


def halves_parts(
    clips: Sequence[ClipT], half: int
) -> tuple[tuple[ClipT, ...], tuple[ClipT, ...], tuple[ClipT, ...], str]:
    """Train, valid and test clips and a description for ``halves:<half>``.

    Within each genre the clips are sorted by file name (natural order of ids) and cut after the
    first ``n // 2`` (10 clips: ids 0-4 and 5-9). The training half's last clip validates,
    unless it is the half's only clip (a genre of 2 or 3 clips), which then trains. A genre of
    fewer than 2 clips is refused: one of its halves would be empty.
    """
    if half not in (1, 2):
        raise InvalidValue(f"the halves split has halves 1 and 2, got {half}")
    by_genre: dict[str, list[ClipT]] = defaultdict(list)
    for clip in clips:
        by_genre[clip.genre].append(clip)
    train: list[ClipT] = []
    valid: list[ClipT] = []
    test: list[ClipT] = []
    for genre in sorted(by_genre):
        ordered = sorted(by_genre[genre], key=lambda c: (natural_key(c.path.name), str(c.path)))
        if len(ordered) < 2:
            raise HierGenreError(
                f"the halves split needs at least 2 clips per genre; genre {genre!r} has {len(ordered)}"
            )
        first, second = ordered[: len(ordered) // 2], ordered[len(ordered) // 2 :]
        trained, tested = (first, second) if half == 1 else (second, first)
        if len(trained) > 1:
            valid.append(trained[-1])
            trained = trained[:-1]
        train += trained
        test += tested
    names = ("first", "second") if half == 1 else ("second", "first")
    description = (
        f"artist-ordered halves: trained on the {names[0]} half of each genre's clips by file name "
        f"(the last of them validates), tested on the {names[1]} half"
    )
    return tuple(train), tuple(valid), tuple(test), description
