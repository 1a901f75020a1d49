"""Rebuild hiergenre's LiteRT copy of musicnn's ``MSD_musicnn`` model from the musicnn 0.1.0 wheel.

Not run by CI, not needed by users: the converted file ships in the package
(``hiergenre/features/musicnn_model/``). Run it in a throwaway environment, never in hiergenre's:

    python -m venv /tmp/convenv
    /tmp/convenv/bin/pip install tensorflow-cpu==2.21.0 numpy
    /tmp/convenv/bin/pip install --no-deps musicnn==0.1.0 tf-keras==2.21.0   # musicnn pins numpy<1.17
    TF_USE_LEGACY_KERAS=1 /tmp/convenv/bin/python scripts/convert_musicnn.py [--check]

The graph is built with ``is_training=False`` (a Python bool, so no ``tf.cond`` is left in it)
from musicnn's own ``models.define_model``, restored from the checkpoint in the wheel, and
converted with ``TFLiteConverter.from_session``. Two outputs: the 200-wide ``penultimate`` layer
(the embedding hiergenre's nodes learn from) and the 50 MSD tag probabilities (sigmoid), for
patches ``(n, 187, 96)`` of log-mel frames. The script checks that LiteRT and the TensorFlow
session agree within 1e-5 on random and on spectrogram-like input, and that the file's SHA-256 is
the one recorded below (the conversion is deterministic); ``--check`` only compares, writing nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

#: SHA-256 of the converted file that ships in the package (tensorflow-cpu 2.21.0, tf-keras 2.21.0, musicnn 0.1.0).
EXPECTED_SHA256 = "2290725224787ba4d6658928235b1d1d7ecd55ffd5e2336299324052a9eddde8"
PATCH_FRAMES, N_MELS, MODEL = 187, 96, "MSD_musicnn"
TARGET = Path(__file__).resolve().parents[1] / "hiergenre" / "features" / "musicnn_model"


def build_session():
    """musicnn's graph for inference, its weights restored; returns (session, input, [penultimate, tags])."""
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    import tensorflow as tf
    from musicnn import configuration, models

    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.reset_default_graph()
    with tf.name_scope("model"):
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, N_MELS], name="patches")
        outputs = models.define_model(x, False, MODEL, len(configuration.MSD_LABELS))
        logits, penultimate = outputs[0], outputs[-1]
        tags = tf.nn.sigmoid(logits, name="tags")
        penultimate = tf.identity(penultimate, name="penultimate")
    session = tf.compat.v1.Session()
    saver = tf.compat.v1.train.Saver()
    import musicnn

    saver.restore(session, str(Path(musicnn.__file__).parent / MODEL) + "/")
    return session, x, [penultimate, tags]


def convert(session, x, outputs) -> bytes:
    import tensorflow as tf

    converter = tf.compat.v1.lite.TFLiteConverter.from_session(session, [x], outputs)
    return converter.convert()


def check_agreement(model: bytes, session, x, outputs) -> float:
    """Largest absolute difference between LiteRT and the session, on two batches of patches."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    rng = np.random.default_rng(0)
    batches = [
        rng.uniform(0, 3, (3, PATCH_FRAMES, N_MELS)).astype(np.float32),
        np.log10(10000 * rng.gamma(0.5, 1e-3, (2, PATCH_FRAMES, N_MELS)) + 1).astype(np.float32),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.tflite"
        path.write_bytes(model)
        interpreter = Interpreter(model_path=str(path))
        worst = 0.0
        for batch in batches:
            expected = session.run(outputs, {x: batch})
            interpreter.resize_tensor_input(interpreter.get_input_details()[0]["index"], batch.shape)
            interpreter.allocate_tensors()
            interpreter.set_tensor(interpreter.get_input_details()[0]["index"], batch)
            interpreter.invoke()
            got = {d["name"]: interpreter.get_tensor(d["index"]) for d in interpreter.get_output_details()}
            for want in expected:
                match = [g for g in got.values() if g.shape == want.shape]
                worst = max(worst, min(float(np.abs(g - want).max()) for g in match))
    return worst


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="convert and compare only; write nothing")
    args = parser.parse_args()
    session, x, outputs = build_session()
    model = convert(session, x, outputs)
    worst = check_agreement(model, session, x, outputs)
    digest = hashlib.sha256(model).hexdigest()
    print(f"{MODEL}: {len(model) / 1e6:.2f} MB, sha256 {digest}, LiteRT vs TensorFlow max |diff| {worst:.2e}")
    if worst > 1e-5:
        print("error: the converted model does not match the TensorFlow session within 1e-5", file=sys.stderr)
        return 1
    if digest != EXPECTED_SHA256:
        print(f"warning: sha256 differs from the recorded {EXPECTED_SHA256}", file=sys.stderr)
    if not args.check:
        TARGET.mkdir(parents=True, exist_ok=True)
        (TARGET / "msd_musicnn.tflite").write_bytes(model)
        import musicnn

        licence = Path(musicnn.__file__).parent.parent / "musicnn-0.1.0.dist-info" / "LICENSE.md"
        shutil.copyfile(licence, TARGET / "LICENSE-musicnn.md")
        print(f"wrote {TARGET / 'msd_musicnn.tflite'} and its licence notice")
    return 0 if digest == EXPECTED_SHA256 or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
