"""A genre timeline for long or mixed files: consecutive segments of the whole file, each routed.

``predict`` scores a file on at most 8 windows of its first 10 minutes and averages them: one
answer per file. A timeline instead reads the file to its end as a stream (one decoded block in
memory at a time, one resampler for the whole file) and routes one analysis window every ``hop``
seconds. Each segment's LMFCC is computed from exactly the samples its frames cover, so a
segment's features do not depend on where the decoded blocks happened to end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from hiergenre.cascade.routing import Route
from hiergenre.data.audio import SILENCE_PEAK, stream_audio
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.features.frontend import FrontEnd

#: Segments routed together (one batch of node-model calls): as many windows as ``predict`` scores
#: of one file at most, so that a timeline's node models need no more memory than a prediction's.
SEGMENTS_PER_BATCH = 8


@dataclass(frozen=True)
class Segment:
    """``start``..``end`` seconds of a file and its route (None for a silent segment)."""

    start: float
    end: float
    route: Route | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form: start, end, genre, p (genre None when silent)."""
        return {
            "start": round(self.start, 3),
            "end": round(self.end, 3),
            "genre": self.route.genre if self.route else None,
            "p": self.route.p if self.route else None,
        }


class SegmentRouter(Protocol):
    """What a timeline needs of a predictor (:class:`~hiergenre.prediction.predictor.Predictor` is one)."""

    @property
    def front_end(self) -> FrontEnd:
        """Turns a segment's samples into one analysis window."""
        ...

    def route_clips(self, clips: Sequence[np.ndarray]) -> list[Route]:
        """The route of each clip, a stack of windows ``(n_windows, frames, n_coefficients)``."""
        ...


def segment_samples(predictor: SegmentRouter) -> int:
    """Samples one analysis window spans (frames of one CNN input)."""
    return predictor.front_end.window_samples


def window_seconds(predictor: SegmentRouter) -> float:
    """Seconds one analysis window spans: the default hop of a timeline (segments side by side)."""
    return segment_samples(predictor) / predictor.front_end.sample_rate


def timeline(predictor: SegmentRouter, path: str | Path, hop_seconds: float | None = None) -> list[Segment]:
    """The whole file as segments of one analysis window, one every ``hop_seconds``, each routed.

    A file shorter than one window gets one segment, repeated to fill the window as ``predict``
    does. Segments whose samples are silent get no route.
    """
    hop = window_seconds(predictor) if hop_seconds is None else hop_seconds
    if hop <= 0:
        raise InvalidValue(f"--hop must be positive, got {hop_seconds}")
    rate = predictor.front_end.sample_rate
    segments: list[Segment] = []
    pending: list[tuple[float, float, np.ndarray | None]] = []
    for start, end, samples in segment_signals(path, segment_samples(predictor), max(1, round(hop * rate)), rate):
        silent = float(np.max(np.abs(samples))) < SILENCE_PEAK
        frames = None if silent else predictor.front_end.analysis_window(samples)
        pending.append((start, end, frames))
        if len(pending) == SEGMENTS_PER_BATCH:
            segments += route_segments(predictor, pending)
            pending = []
    segments += route_segments(predictor, pending)
    if not segments:
        raise HierGenreError(f"{path}: contains no audio samples")
    return segments


def segment_signals(path: str | Path, length: int, hop: int, rate: int) -> Iterator[tuple[float, float, np.ndarray]]:
    """``(start, end, samples)`` of every full segment of ``length`` samples, one every ``hop`` (seconds).

    When the file goes on past the last of them, one more segment ends on the file's last sample
    (it overlaps the one before), so the timeline covers the whole file. Memory holds at most one
    segment plus one decoded block. A file shorter than one segment yields it once, repeated to
    fill it (its end is the file's end).
    """
    buffer = np.zeros(0, np.float32)
    offset = 0  # sample index of buffer[0]
    next_start = 0
    for block in stream_audio(path, sample_rate=rate):
        buffer = np.concatenate([buffer, block])
        while next_start + length <= offset + len(buffer):
            begin = next_start - offset
            yield next_start / rate, (next_start + length) / rate, buffer[begin : begin + length]
            next_start += hop
        drop = min(next_start - offset, len(buffer) - length)  # keep one segment's worth for the file's tail
        if drop > 0:
            buffer, offset = buffer[drop:], offset + drop
    total = offset + len(buffer)
    if next_start == 0 and total > 0:  # shorter than one segment: repeat it, as predict does
        yield 0.0, total / rate, np.resize(buffer, length)
    elif next_start > 0 and next_start - hop + length < total:  # the tail after the last full segment
        yield (total - length) / rate, total / rate, buffer[len(buffer) - length :]


def route_segments(predictor: SegmentRouter, pending: list[tuple[float, float, np.ndarray | None]]) -> list[Segment]:
    """Route the non-silent segments of ``pending`` in one batch."""
    audible = [frames[None] for _, _, frames in pending if frames is not None]
    routes = iter(predictor.route_clips(audible) if audible else [])
    return [Segment(start, end, next(routes) if frames is not None else None) for start, end, frames in pending]
