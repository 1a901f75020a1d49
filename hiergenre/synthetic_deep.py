"""A deep synthetic taxonomy: 30 leaf styles in three levels, for deep trees on every CI run.

Each of the ten synthetic genres (:mod:`hiergenre.synthetic_styles`) gets three variants that
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

from hiergenre.hierarchy import GenreTree
from hiergenre.synthetic_styles import STYLES, Instrument, Style

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


def deep_styles() -> dict[str, Style]:
    """The 30 variant styles by name, in tree order."""
    out = {}
    for genres in FAMILIES.values():
        for genre in genres:
            base = STYLES[genre]
            for variant, (tempo, rolloff) in VARIANTS.items():
                out[f"{genre}-{variant}"] = replace(
                    base,
                    tempo=(base.tempo[0] * tempo, base.tempo[1] * tempo),
                    lead=_varied(base.lead, rolloff),
                    chord=_varied(base.chord, rolloff),
                )
    return out


def deep_tree() -> GenreTree:
    """Families → genres → variants (30 genres, 15 node models)."""
    spec = {
        family: [{genre: [f"{genre}-{v}" for v in VARIANTS]} for genre in genres] for family, genres in FAMILIES.items()
    }
    return GenreTree.from_spec(spec, "deep")
