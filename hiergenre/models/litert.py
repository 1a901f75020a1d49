"""Running trained CNNs without TensorFlow: LiteRT export at training, LiteRT inference at prediction.

Importing TensorFlow costs seconds before any work is done, while the node CNNs themselves run in
milliseconds. So every trained network is also exported to a LiteRT (``.tflite``) file next to
its Keras file, and prediction runs those with ``ai-edge-litert`` and numpy only. The Keras file
stays the reference (``--runtime keras``); tests check that both give the same probabilities.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from hiergenre.errors import HierGenreError
from hiergenre.native import native_stderr_muted
from hiergenre.storage import atomic_path


def export_litert(network: Any, path: str | Path) -> Path:
    """Write ``network`` as a LiteRT flatbuffer, atomically (needs TensorFlow: training time only)."""
    path = Path(path)
    with atomic_path(path) as tmp, native_stderr_muted():
        network.export(str(tmp), format="litert", verbose=False)
    return path


class LiteNetwork:
    """A LiteRT model called like the Keras network it was exported from: ``net(x) -> probabilities``."""

    def __init__(self, path: str | Path, parameters: int) -> None:
        from ai_edge_litert.interpreter import Interpreter

        path = Path(path)
        if not path.is_file():
            raise HierGenreError(
                f"no LiteRT model {path} (trained by an older hiergenre: rerun train-all, or use --runtime keras)"
            )
        try:
            with native_stderr_muted():  # the runtime announces its CPU delegate on stderr
                self.interpreter = Interpreter(model_path=str(path), num_threads=1)
        except (ValueError, RuntimeError) as exc:
            raise HierGenreError(f"cannot load LiteRT model {path}: {exc}") from None
        self.input = self.interpreter.get_input_details()[0]["index"]
        self.output = self.interpreter.get_output_details()[0]["index"]
        self.batch = 0
        self.parameters = parameters

    def __call__(self, x: np.ndarray, training: bool = False) -> np.ndarray:
        """Class probabilities for a batch of normalised windows ``(n, frames, coefficients, 1)``."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        if len(x) != self.batch:
            with native_stderr_muted():  # the runtime announces its CPU delegate on first allocation
                self.interpreter.resize_tensor_input(self.input, x.shape)
                self.interpreter.allocate_tensors()
            self.batch = len(x)
        self.interpreter.set_tensor(self.input, x)
        self.interpreter.invoke()
        return np.array(self.interpreter.get_tensor(self.output))

    def count_params(self) -> int:
        """Parameters of the network it was exported from (recorded at training)."""
        return self.parameters
