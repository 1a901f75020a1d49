"""How a timeline cuts a file into segments (``hiergenre.prediction.timeline``), without any trained model.

The signals are ramps written as 32-bit float WAV at the front-end's rate, so every decoded sample
is exact and a segment's samples can be compared with the slice of the file they should be.
Routing is a stub that names each segment by its level, so the order of the routes is visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hiergenre.cascade.routing import Route, Step
from hiergenre.data.audio import BLOCK_FRAMES
from hiergenre.errors import HierGenreError, InvalidValue
from hiergenre.prediction.timeline import SEGMENTS_PER_BATCH, segment_signals, timeline

RATE = 22050


def ramp(n_samples: int) -> np.ndarray:
    """``(n_samples,)`` distinct float32 values, exact in float32: each sample says where it is."""
    return ((np.arange(n_samples) % 65536) / 65536 * 0.5 + 0.25).astype(np.float32)


def write(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    """``signal`` as a 32-bit float WAV (no quantisation)."""
    sf.write(str(path), signal, rate, subtype="FLOAT")
    return path


@dataclass
class StubFrontEnd:
    """A front-end whose analysis window is the segment's samples, shaped ``(frames, 1)``."""

    window_samples: int
    sample_rate: int = RATE
    max_seconds: float = 1.0  # what predict decodes at most; a timeline reads past it

    def analysis_window(self, samples: np.ndarray) -> np.ndarray:
        return np.asarray(samples, dtype=np.float32)[:, None]


@dataclass
class StubRouter:
    """Routes each window to the genre ``level<L>``, L its mean sample value ×10 rounded; records each batch."""

    front_end: StubFrontEnd
    batches: list[int] = field(default_factory=list)

    def route_clips(self, clips: Sequence[np.ndarray]) -> list[Route]:
        self.batches.append(len(clips))
        for clip in clips:
            assert clip.shape == (1, self.front_end.window_samples, 1)  # one window per segment
        return [Route(f"level{round(10 * float(clip.mean()))}", [Step("root", "x", 0.5)]) for clip in clips]


def test_segments_start_every_hop_and_hold_exactly_the_samples_they_cover(tmp_path):
    signal = ramp(3 * BLOCK_FRAMES + 1234)  # segments straddle the decoder's block boundaries
    path = write(tmp_path / "ramp.wav", signal)
    length, hop = 20000, 7000
    *segments, tail = list(segment_signals(path, length, hop, RATE))
    assert len(segments) == (len(signal) - length) // hop + 1
    for i, (start, end, samples) in enumerate(segments):
        assert start == pytest.approx(i * hop / RATE) and end == pytest.approx((i * hop + length) / RATE)
        np.testing.assert_array_equal(samples, signal[i * hop : i * hop + length])
    np.testing.assert_array_equal(tail[2], signal[-length:])  # the file's tail: a last segment ends on its end


def test_the_tail_after_the_last_full_segment_gets_a_segment_ending_on_the_files_end(tmp_path):
    length, hop = 10000, 10000
    signal = ramp(5 * length - 1)  # the fifth segment would lack one sample
    segments = list(segment_signals(write(tmp_path / "ramp.wav", signal), length, hop, RATE))
    assert [round(start * RATE) for start, _, _ in segments] == [0, 10000, 20000, 30000, 39999]
    assert segments[-1][1] == pytest.approx(len(signal) / RATE)  # no sample of the file is left out
    np.testing.assert_array_equal(segments[-1][2], signal[-length:])  # overlapping the one before
    exact = list(segment_signals(write(tmp_path / "exact.wav", ramp(5 * length)), length, hop, RATE))
    assert len(exact) == 5 and exact[-1][1] == pytest.approx(5 * length / RATE)  # ends on the last sample


def test_a_hop_longer_than_a_segment_skips_the_samples_between(tmp_path):
    signal = ramp(2 * BLOCK_FRAMES + 500)
    length, hop = 3000, BLOCK_FRAMES + 17  # gaps longer than a decoded block
    *segments, tail = list(segment_signals(write(tmp_path / "ramp.wav", signal), length, hop, RATE))
    assert len(segments) == 2
    for i, (_, _, samples) in enumerate(segments):
        np.testing.assert_array_equal(samples, signal[i * hop : i * hop + length])
    np.testing.assert_array_equal(tail[2], signal[-length:])


def test_a_file_shorter_than_one_segment_is_repeated_to_fill_it(tmp_path):
    signal = ramp(3000)
    ((start, end, samples),) = segment_signals(write(tmp_path / "short.wav", signal), 7000, 1000, RATE)
    assert start == 0.0 and end == pytest.approx(3000 / RATE)  # the segment ends where the file does
    np.testing.assert_array_equal(samples, np.concatenate([signal, signal, signal[:1000]]))


def test_segments_are_timed_at_the_front_ends_rate_whatever_the_files(tmp_path):
    path = write(tmp_path / "fast.wav", np.tile(ramp(44100), 3), rate=44100)  # 3 s at 44.1 kHz
    segments = list(segment_signals(path, RATE, RATE // 2, RATE))  # 1-s segments every 0.5 s at 22.05 kHz
    assert [start for start, _, _ in segments] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert all(len(samples) == RATE for _, _, samples in segments)


def test_silent_segments_get_no_route_and_the_others_keep_their_order(tmp_path):
    length = 1000
    levels = [0.3, 0.0, 0.5, 0.0, 0.7]  # one segment of each level, two of them silent
    signal = np.concatenate([np.full(length, level, np.float32) for level in levels])
    router = StubRouter(StubFrontEnd(length))
    segments = timeline(router, write(tmp_path / "gaps.wav", signal))  # default hop: segments side by side
    assert [(round(s.start * RATE), round(s.end * RATE)) for s in segments] == [
        (i * 1000, i * 1000 + 1000) for i in range(5)
    ]
    assert [s.route.genre if s.route else None for s in segments] == ["level3", None, "level5", None, "level7"]
    assert [s.as_dict()["genre"] for s in segments] == ["level3", None, "level5", None, "level7"]
    assert segments[1].as_dict() == {
        "start": round(1000 / RATE, 3),
        "end": round(2000 / RATE, 3),
        "genre": None,
        "p": None,
    }
    assert router.batches == [3]  # only audible segments reach the models


def test_long_files_are_routed_in_batches_in_file_order(tmp_path):
    length = 200
    count = 2 * SEGMENTS_PER_BATCH + 5
    levels = (np.arange(count) % 9 + 1) / 10  # 0.1 to 0.9: never silent
    signal = np.repeat(levels, length).astype(np.float32)
    router = StubRouter(StubFrontEnd(length))
    segments = timeline(router, write(tmp_path / "long.wav", signal), hop_seconds=length / RATE)
    assert router.batches == [SEGMENTS_PER_BATCH, SEGMENTS_PER_BATCH, 5]
    assert [s.route.genre for s in segments] == [f"level{round(10 * level)}" for level in levels]


def test_the_whole_file_is_read_past_what_predict_decodes(tmp_path):
    router = StubRouter(StubFrontEnd(RATE))
    signal = np.full(10 * RATE, 0.4, np.float32)  # ten times the front-end's max_seconds
    segments = timeline(router, write(tmp_path / "long.wav", signal), hop_seconds=2.0)
    assert [s.start for s in segments] == [0.0, 2.0, 4.0, 6.0, 8.0, 9.0] and segments[-1].end == pytest.approx(10.0)
    assert all(s.route.genre == "level4" for s in segments)


@pytest.mark.parametrize("hop", [0.0, -1.0])
def test_a_hop_must_be_positive(tmp_path, hop):
    router = StubRouter(StubFrontEnd(100))
    with pytest.raises(InvalidValue, match="--hop must be positive"):
        timeline(router, write(tmp_path / "a.wav", ramp(1000)), hop_seconds=hop)


def test_a_file_without_samples_is_one_line(tmp_path):
    router = StubRouter(StubFrontEnd(100))
    path = write(tmp_path / "nothing.wav", np.zeros(0, np.float32))
    with pytest.raises(HierGenreError, match=r"nothing\.wav: contains no audio samples$"):
        timeline(router, path)
