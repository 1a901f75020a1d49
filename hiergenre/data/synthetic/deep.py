"""A deep synthetic taxonomy: 30 leaf styles in three levels, for deep trees on every CI run.

Each of the ten synthetic genres (:mod:`hiergenre.data.synthetic.styles`) gets three variants that
keep its rhythm, harmony and instruments and change tempo and brightness: ``<genre>-slow``,
``<genre>-mid``, ``<genre>-fast``. The tree groups them as families of shared rhythm and timbre
(``acoustic``, ``roots``, ``rhythmic``, ``heavy``), then genres, then variants:

    root → rhythmic → disco → disco-fast

Siblings at the bottom differ less than cousins, as in a real taxonomy, so a cascade can be sure
of the family and genre while unsure of the variant: the case for stopping at an inner node.
Generated audio, not music.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from hiergenre.cascade.hierarchy import GenreTree
from hiergenre.data.synthetic.styles import STYLES, Instrument, Style

#: Families of genres that share rhythm or timbre: the tree's top level.
FAMILIES = {
    "acoustic": ("classical", "jazz"),
    "roots": ("blues", "country"),
    "rhythmic": ("disco", "pop", "hiphop", "reggae"),
    "heavy": ("metal", "rock"),
}
#: Each variant's tempo factor and change of lead and chord roll-off (higher: darker).
VARIANTS = {"slow": (0.8, 0.6), "mid": (1.0, 0.0), "fast": (1.25, -0.6)}


def _varied(instrument: Instrument, rolloff: float) -> Instrument:
    return replace(instrument, rolloff=max(0.4, instrument.rolloff + rolloff))


def deep_styles(variants: dict[str, tuple[float, float]] | None = None) -> dict[str, Style]:
    """The variant styles by name, in tree order: 30 with :data:`VARIANTS`, or ten per entry of ``variants``."""
    out = {}
    for genres in FAMILIES.values():
        for genre in genres:
            base = STYLES[genre]
            for variant, (tempo, rolloff) in (variants or VARIANTS).items():
                out[f"{genre}-{variant}"] = replace(
                    base,
                    tempo=(base.tempo[0] * tempo, base.tempo[1] * tempo),
                    lead=_varied(base.lead, rolloff),
                    chord=_varied(base.chord, rolloff),
                )
    return out


def deep_tree(variants: dict[str, tuple[float, float]] | None = None, name: str = "deep") -> GenreTree:
    """Families → genres → variants (30 genres and 15 node models with :data:`VARIANTS`)."""
    names = list(variants or VARIANTS)
    spec = {
        family: [{genre: [f"{genre}-{v}" for v in names]} for genre in genres] for family, genres in FAMILIES.items()
    }
    return GenreTree.from_spec(spec, name)


def spread_variants(count: int) -> dict[str, tuple[float, float]]:
    """``count`` variants per genre, tempo from 0.75× to 1.3× and roll-off from +0.6 to −0.6 (``v01``...)."""
    steps = np.linspace(0.0, 1.0, count) if count > 1 else np.array([0.5])
    return {f"v{i + 1:02d}": (0.75 + 0.55 * x, 0.6 - 1.2 * x) for i, x in enumerate(steps)}
