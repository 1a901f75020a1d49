"""The genre styles of the embedded synthetic corpus, as data: tempo, rhythm, timbre, harmony.

Each of the ten GTZAN genre names gets a :class:`Style`; :mod:`hiergenre.data.synthetic.corpus` renders clips
from them. Neighbouring genres share ranges and borrow instruments from each other on purpose
(``borrow``), so that the synthetic task is learnable but not trivial.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GENRES = ("blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock")

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)
_BLUES = (0, 3, 5, 6, 7, 10)
CHORDS = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dom7": (0, 4, 7, 10),
    "min7": (0, 3, 7, 10),
    "maj7": (0, 4, 7, 11, 14),
    "min9": (0, 3, 7, 10, 14),
    "dom9": (0, 4, 7, 10, 14),
    "pow": (0, 7, 12),
}


@dataclass(frozen=True)
class Instrument:
    """A harmonic tone: partial amplitudes fall as ``k ** -rolloff``."""

    rolloff: float
    attack: float
    decay: float
    odd_only: bool = False
    vibrato: float = 0.0


@dataclass(frozen=True)
class Style:
    """Everything the renderer needs to know about one genre."""

    tempo: tuple[float, float]
    swing: float
    kick: str
    snare: str
    hat: str
    progression: tuple[tuple[int, str], ...]
    scale: tuple[int, ...]
    chord_rhythm: str
    chord: Instrument
    lead: Instrument
    drive: tuple[float, float]
    bass: str
    lead_density: float
    borrow: str


def rhythm_pattern(text: str) -> np.ndarray:
    """A 16-step drum pattern written as x (hit) and . (rest) as a boolean array."""
    return np.array([c == "x" for c in text.replace(" ", "")], dtype=bool)


PLUCK = Instrument(rolloff=1.2, attack=0.004, decay=0.35)
_BRIGHT_PLUCK = Instrument(rolloff=0.8, attack=0.002, decay=0.18)
_PAD = Instrument(rolloff=1.6, attack=0.25, decay=2.5, vibrato=0.004)
_STRINGS = Instrument(rolloff=1.1, attack=0.12, decay=1.6, vibrato=0.006)
_PIANO = Instrument(rolloff=1.8, attack=0.003, decay=0.7)
_GUITAR = Instrument(rolloff=1.0, attack=0.003, decay=0.5)
_SYNTH = Instrument(rolloff=0.9, attack=0.01, decay=0.3, odd_only=True)
_VOICE = Instrument(rolloff=2.2, attack=0.05, decay=0.5, vibrato=0.012)
_HORN = Instrument(rolloff=1.3, attack=0.03, decay=0.4, odd_only=True, vibrato=0.005)

STYLES: dict[str, Style] = {
    "blues": Style(
        (70, 100),
        0.33,
        "x... .... x... ....",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "dom7"), (0, "dom7"), (5, "dom7"), (0, "dom7"), (7, "dom7"), (5, "dom7")),
        _BLUES,
        "beats",
        _GUITAR,
        _GUITAR,
        (1.5, 4.0),
        "walking",
        0.5,
        "jazz",
    ),
    "classical": Style(
        (60, 110),
        0.0,
        "",
        "",
        "",
        ((0, "maj"), (5, "maj"), (7, "maj"), (9, "min")),
        _MAJOR,
        "sustain",
        _STRINGS,
        _STRINGS,
        (1.0, 1.0),
        "root_slow",
        0.7,
        "jazz",
    ),
    "country": Style(
        (95, 130),
        0.0,
        "x... .... x... ....",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "maj"), (5, "maj"), (7, "maj"), (0, "maj")),
        _MAJOR,
        "beats",
        _BRIGHT_PLUCK,
        _VOICE,
        (1.0, 1.5),
        "root_fifth",
        0.5,
        "pop",
    ),
    "disco": Style(
        (112, 128),
        0.0,
        "x... x... x... x...",
        ".... x... .... x...",
        "..x. ..x. ..x. ..x.",
        ((0, "min7"), (5, "min7")),
        _MINOR,
        "offbeat",
        _STRINGS,
        _SYNTH,
        (1.0, 1.3),
        "octave",
        0.4,
        "pop",
    ),
    "hiphop": Style(
        (80, 98),
        0.15,
        "x... ...x ..x. ....",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "min"), (8, "maj")),
        _MINOR,
        "sparse",
        _PIANO,
        _VOICE,
        (1.0, 1.2),
        "sub808",
        0.2,
        "reggae",
    ),
    "jazz": Style(
        (100, 180),
        0.3,
        "x... .... .... ....",
        ".... .... .... ..x.",
        "x..x x.x. x..x x.x.",
        ((2, "min9"), (7, "dom9"), (0, "maj7"), (9, "min7")),
        _MAJOR,
        "comp",
        _PIANO,
        _HORN,
        (1.0, 1.1),
        "walking",
        0.6,
        "blues",
    ),
    "metal": Style(
        (140, 200),
        0.0,
        "xxxx xxxx xxxx xxxx",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "pow"), (8, "pow"), (10, "pow"), (0, "pow")),
        _MINOR,
        "sixteenths",
        _GUITAR,
        _GUITAR,
        (8.0, 20.0),
        "root",
        0.3,
        "rock",
    ),
    "pop": Style(
        (96, 124),
        0.0,
        "x... ..x. x... ....",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj")),
        _MAJOR,
        "eighths",
        _SYNTH,
        _VOICE,
        (1.0, 1.5),
        "root",
        0.6,
        "disco",
    ),
    "reggae": Style(
        (62, 86),
        0.1,
        ".... .... x... ....",
        ".... .... x... ....",
        "..x. ..x. ..x. ..x.",
        ((0, "maj"), (5, "maj")),
        _MAJOR,
        "skank",
        _BRIGHT_PLUCK,
        _HORN,
        (1.0, 1.4),
        "offbeat",
        0.3,
        "hiphop",
    ),
    "rock": Style(
        (105, 145),
        0.0,
        "x... ..x. x... ....",
        ".... x... .... x...",
        "x.x. x.x. x.x. x.x.",
        ((0, "pow"), (10, "pow"), (5, "pow"), (0, "maj")),
        _MAJOR,
        "eighths",
        _GUITAR,
        _GUITAR,
        (3.0, 9.0),
        "root",
        0.4,
        "metal",
    ),
}
