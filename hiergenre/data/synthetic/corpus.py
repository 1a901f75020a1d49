"""The embedded default corpus: synthetic clips for the ten GTZAN genre names.

This is **not music data**. It exists so that the demo and the tests run on a fresh machine with
no dataset; real use needs a real dataset such as GTZAN (see README.md). Each clip is rendered
from a genre *style*: what distinguishes the genres is

- tempo and rhythm: drum patterns on a 16-step grid (four-on-the-floor disco, shuffled blues,
  one-drop reggae, double-kick metal, backbeat rock/pop/country, sparse hip-hop, a swung jazz ride,
  no drums in classical), with a swing amount;
- timbre: the harmonic spectrum (rolloff, odd-only partials), attack and decay of the chord and
  melody instruments, distortion drive (metal > rock > blues), vibrato, noise floor;
- harmony: chord qualities and progressions (dominant sevenths for blues, extended chords for
  jazz, power chords for metal/rock, triads for pop/country/classical, minor loops for hip-hop
  and disco), and the bass line style (walking, octave, 808 sub, offbeat, root notes).

To keep the task from being trivial, every clip draws its tempo, key, mix levels, drive,
brightness and noise from ranges that overlap between neighbouring genres, and a share of clips
borrow their lead or chord instrument from a related genre, and each clip passes through a
random "recording chain" (band limits and tilt, like GTZAN's mix of radio, CD and tape sources).
Generation is deterministic in ``(seed, genre, index)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from hiergenre.config import SAMPLE_RATE
from hiergenre.data.audio import save_audio
from hiergenre.data.synthetic.styles import CHORDS, GENRES, PLUCK, STYLES, Instrument, Style, rhythm_pattern
from hiergenre.storage import atomic_path

__all__ = ["GENRES", "STYLES", "synthesize_clip", "write_corpus"]


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12)


class _Renderer:
    """Adds notes and drum hits into one buffer."""

    def __init__(self, seconds: float, sample_rate: int, rng: np.random.Generator) -> None:
        self.sr = sample_rate
        self.rng = rng
        self.buffer = np.zeros(int(seconds * sample_rate) + sample_rate, dtype=np.float64)

    def add(self, start: float, signal: np.ndarray) -> None:
        i = int(start * self.sr)
        if i >= len(self.buffer):
            return
        n = min(len(signal), len(self.buffer) - i)
        self.buffer[i : i + n] += signal[:n]

    def tone(
        self,
        start: float,
        freqs: list[float],
        length: float,
        inst: Instrument,
        gain: float,
        drive: float = 1.0,
        brightness: float = 1.0,
    ) -> None:
        t = np.arange(int(min(length, 4.0) * self.sr)) / self.sr
        if len(t) == 0:
            return
        vib = 1.0 + inst.vibrato * np.sin(2 * np.pi * self.rng.uniform(4.5, 6.5) * t)
        out = np.zeros_like(t)
        step = 2 if inst.odd_only else 1
        for f in freqs:
            phase = 2 * np.pi * f * np.cumsum(vib) / self.sr
            for k in range(1, 14, step):
                if f * k > self.sr / 2.2:
                    break
                out += np.sin(k * phase + self.rng.uniform(0, 6.28)) * k ** (-inst.rolloff / brightness)
        envelope = np.minimum(t / inst.attack, 1.0) * np.exp(-t / inst.decay)
        out *= envelope / max(len(freqs), 1)
        if drive > 1.0:
            out = np.tanh(drive * out) / np.tanh(drive)
        self.add(start, gain * out)

    def drum(self, start: float, kind: str, gain: float) -> None:
        if kind == "kick":
            t = np.arange(int(0.3 * self.sr)) / self.sr
            freq = 45 + 80 * np.exp(-t / 0.03)
            hit = np.sin(2 * np.pi * np.cumsum(freq) / self.sr) * np.exp(-t / 0.12)
        elif kind == "snare":
            t = np.arange(int(0.2 * self.sr)) / self.sr
            hit = (0.7 * self.rng.standard_normal(len(t)) + 0.5 * np.sin(2 * np.pi * 190 * t)) * np.exp(-t / 0.06)
        else:
            t = np.arange(int(0.06 * self.sr)) / self.sr
            hit = np.diff(self.rng.standard_normal(len(t) + 1)) * np.exp(-t / 0.015) * 0.5
        self.add(start, gain * hit)


def _chord_onsets(rhythm: str, beat: float, rng: np.random.Generator) -> list[tuple[float, float]]:
    """(offset, length) of chord hits within one bar of four beats."""
    if rhythm == "sustain":
        return [(0.0, 4 * beat)]
    if rhythm == "beats":
        return [(b * beat, beat * 0.9) for b in range(4)]
    if rhythm == "eighths":
        return [(e * beat / 2, beat * 0.45) for e in range(8)]
    if rhythm == "sixteenths":
        return [(s * beat / 4, beat * 0.22) for s in range(16)]
    if rhythm in ("offbeat", "skank"):
        length = 0.15 * beat if rhythm == "skank" else 0.35 * beat
        return [(b * beat + beat / 2, length) for b in range(4)]
    if rhythm == "comp":
        return [(float(o) * beat / 2, beat * 0.6) for o in sorted(rng.choice(8, size=3, replace=False))]
    return [(0.0, beat * 1.5)] if rng.random() < 0.6 else []


def _bass_notes(style: str, root: int, chord: tuple[int, ...], beat: float, rng: np.random.Generator):
    """(offset, length, midi) of bass notes within one bar."""
    if style == "walking":
        return [(b * beat, beat * 0.9, root + chord[rng.integers(len(chord))] % 12) for b in range(4)]
    if style == "octave":
        return [(e * beat / 2, beat * 0.4, root + 12 * (e % 2)) for e in range(8)]
    if style == "sub808":
        return [(0.0, beat * 2.5, root - 12), (2.5 * beat, beat * 1.2, root - 12)]
    if style == "offbeat":
        return [(b * beat + beat / 2, beat * 0.45, root) for b in range(4)]
    if style == "root_fifth":
        return [(0.0, beat, root), (2 * beat, beat, root + 7)]
    if style == "root_slow":
        return [(0.0, 4 * beat, root)]
    return [(b * beat, beat * 0.8, root) for b in range(4)]


def _recording_chain(signal: np.ndarray, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Random band limits and spectral tilt, as different sources and media would impose."""
    from scipy.signal import butter, sosfilt

    low = rng.uniform(30, 250)
    high = min(rng.uniform(3500, 11000), sample_rate / 2 - 100)
    signal = sosfilt(butter(2, [low, high], btype="bandpass", fs=sample_rate, output="sos"), signal)
    tilt = rng.uniform(-0.6, 0.6)
    return signal + tilt * np.concatenate([[0.0], np.diff(signal)])


def synthesize_clip(
    genre: str,
    index: int,
    *,
    seconds: float = 15.0,
    seed: int = 0,
    sample_rate: int = SAMPLE_RATE,
    styles: Mapping[str, Style] = STYLES,
) -> np.ndarray:
    """Render clip ``index`` of ``genre`` (a key of ``styles``); the same arguments always give the same samples."""
    if genre not in styles:
        raise ValueError(f"unknown synthetic genre {genre!r}; choose from {', '.join(styles)}")
    rng = np.random.default_rng([seed, list(styles).index(genre), index])
    style = styles[genre]
    lead_style = STYLES[style.borrow] if rng.random() < 0.35 else style
    chord_style = STYLES[style.borrow] if rng.random() < 0.2 else style
    out = _Renderer(seconds, sample_rate, rng)
    beat = 60.0 / rng.uniform(*style.tempo)
    key = int(rng.integers(40, 52))
    drive = rng.uniform(*style.drive)
    brightness = rng.uniform(0.6, 1.5)
    levels = {name: rng.uniform(0.5, 1.0) for name in ("drums", "chords", "bass", "lead")}
    patterns = {name: rhythm_pattern(getattr(style, name)) for name in ("kick", "snare", "hat")}
    bar, start = 0, rng.uniform(0, 2 * beat)
    while start < seconds:
        degree, quality = style.progression[bar % len(style.progression)]
        root = key + degree
        chord = CHORDS[quality]
        for step in range(16):
            offset = step * beat / 4 + (style.swing * beat / 4 if step % 2 else 0.0)
            for name, pattern in patterns.items():
                if len(pattern) and pattern[step]:
                    out.drum(start + offset, name, 0.5 * levels["drums"] * rng.uniform(0.7, 1.0))
        for offset, length in _chord_onsets(style.chord_rhythm, beat, rng):
            freqs = [_midi_hz(root + 12 + i) for i in chord]
            out.tone(start + offset, freqs, length, chord_style.chord, 0.35 * levels["chords"], drive, brightness)
        for offset, length, note in _bass_notes(style.bass, root - 12, chord, beat, rng):
            out.tone(start + offset, [_midi_hz(note)], length, PLUCK, 0.4 * levels["bass"])
        for eighth in range(8):
            if rng.random() < style.lead_density:
                note = key + 24 + style.scale[rng.integers(len(style.scale))] + 12 * int(rng.random() < 0.2)
                out.tone(
                    start + eighth * beat / 2,
                    [_midi_hz(note)],
                    beat * rng.uniform(0.4, 1.5),
                    lead_style.lead,
                    0.25 * levels["lead"],
                    min(drive, 3.0),
                    brightness,
                )
        start += 4 * beat
        bar += 1
    signal = out.buffer[: int(seconds * sample_rate)]
    signal += rng.uniform(0.002, 0.05) * rng.standard_normal(len(signal))
    signal = _recording_chain(signal, sample_rate, rng)
    peak = np.max(np.abs(signal)) or 1.0
    return (signal / peak * rng.uniform(0.3, 0.9)).astype(np.float32)


def write_corpus(
    directory: str | Path,
    *,
    clips_per_genre: int = 10,
    seconds: float = 15.0,
    seed: int = 0,
    genres: tuple[str, ...] | None = None,
    styles: Mapping[str, Style] = STYLES,
) -> Path:
    """Write the synthetic corpus in GTZAN layout (``genres/<genre>/<genre>.000NN.au``).

    ``styles`` are the genres to render (the ten GTZAN-named ones, or
    :func:`hiergenre.data.synthetic.deep.deep_styles`); ``genres`` a subset of them. Existing clips with
    the right name are kept, so calling this twice costs nothing. Returns the ``genres`` folder.
    """
    root = Path(directory) / "genres"
    for genre in genres or tuple(styles):
        for index in range(clips_per_genre):
            path = root / genre / f"{genre}.{index:05d}.au"
            if not path.exists():
                with atomic_path(path) as tmp:
                    save_audio(tmp, synthesize_clip(genre, index, seconds=seconds, seed=seed, styles=styles))
    (Path(directory) / "SYNTHETIC.txt").write_text(
        "This folder holds hiergenre's embedded SYNTHETIC genre corpus, generated by\n"
        "hiergenre.data.synthetic.corpus.write_corpus"
        f"(clips_per_genre={clips_per_genre}, seconds={seconds}, seed={seed}).\n"
        "It is not music data: use a real dataset such as GTZAN for real results.\n"
    )
    return root
