"""Every feature front-end by name: what ``train-all --features`` offers and what a manifest records.

A trained tree's manifest records its front-end as ``{"kind": ..., "params": {...}}``; loading it
goes through :func:`load_front_end`, so no other module branches on kind names. Adding a
front-end means a settings class in :mod:`hiergenre.config`, a front-end class with the
:class:`~hiergenre.features.frontend.FrontEnd` methods, and one line in :data:`FRONT_END_KINDS`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hiergenre import __version__
from hiergenre.config import FeatureSettings
from hiergenre.errors import HierGenreError
from hiergenre.features.frontend import LmfccFrontEnd
from hiergenre.features.musicnn_frontend import MusicnnFrontEnd
from hiergenre.features.paired_frontend import PairedFrontEnd

#: A front-end of any kind.
AnyFrontEnd = LmfccFrontEnd | MusicnnFrontEnd | PairedFrontEnd
#: Every front-end kind by the name a manifest records.
FRONT_END_KINDS: dict[str, type[LmfccFrontEnd] | type[MusicnnFrontEnd] | type[PairedFrontEnd]] = {
    LmfccFrontEnd.kind: LmfccFrontEnd,
    MusicnnFrontEnd.kind: MusicnnFrontEnd,
    PairedFrontEnd.kind: PairedFrontEnd,
}


def front_end_for(settings: FeatureSettings) -> AnyFrontEnd:
    """The front-end that computes features with ``settings`` (the reference path: what training uses)."""
    return FRONT_END_KINDS[settings.kind](settings)


def load_front_end(record: dict[str, Any], matrices_file: Path, *, lean: bool) -> AnyFrontEnd:
    """The front-end of a manifest's record, or a one-line error for a kind this hiergenre does not know."""
    kind = FRONT_END_KINDS.get(record.get("kind", ""))
    if kind is None:
        raise HierGenreError(
            f"the models in {matrices_file.parent} take inputs from the front-end {record.get('kind')!r}, "
            f"which hiergenre {__version__} does not know: upgrade hiergenre or retrain with train-all"
        )
    return kind.load(dict(record.get("params") or {}), matrices_file, lean=lean)
