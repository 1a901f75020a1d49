"""What hiergenre leaves alone in a host process (a notebook, an application): its matplotlib backend and
pyplot state, and TensorFlow's process-wide thread settings (only training pins those).

Each check runs in a fresh interpreter, since both settings belong to the whole process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.commands import ROOT


def run_python(script: str) -> object:
    """Run ``script`` in a fresh interpreter at the repository root; the JSON of its last output line."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_drawing_keeps_the_hosts_matplotlib_backend_and_never_imports_pyplot(tmp_path: Path):
    (tmp_path / "small.yaml").write_text("tree: {heavy: [metal, rock], soft: [jazz, classical]}\n")
    backend, pyplot_imported, pngs = run_python(
        f"""
        import json, sys
        from pathlib import Path
        import matplotlib
        matplotlib.use("svg")  # the host's choice
        import hiergenre
        from hiergenre.viz.reports import confusion_png
        from hiergenre.viz.timeline import draw_timeline
        from tests.unit.viz.samples import TREE, scores, timeline_prediction

        out = Path({str(tmp_path)!r})
        hiergenre.build_tree(out / "small.yaml", workdir=out / "ws")
        confusion_png(scores(), out / "confusion.png", reference=TREE)
        draw_timeline(timeline_prediction(4), TREE, out / "timeline.png")
        pngs = sorted(p.name for p in out.rglob("*.png"))
        print(json.dumps([matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules, pngs]))
        """
    )
    assert backend == "svg" and not pyplot_imported
    assert pngs == ["confusion.png", "timeline.png", "tree.png"]


def test_importing_and_predicting_with_keras_leave_tensorflows_threads_alone(tmp_path: Path):
    report = run_python(
        f"""
        import json, warnings
        import numpy as np
        import hiergenre, hiergenre.api
        import tensorflow as tf

        def threads():
            return [tf.config.threading.get_intra_op_parallelism_threads(),
                    tf.config.threading.get_inter_op_parallelism_threads()]

        after_import = threads()
        from hiergenre.config import FeatureConfig, ModelConfig
        from hiergenre.features.windows import Normalizer
        from hiergenre.models.network import build_cnn, pin_training_threads
        from hiergenre.models.nodes import CnnNode, load_node, save_node

        features = FeatureConfig(window_frames=30)
        windows = np.random.default_rng(0).normal(size=(4, 30, 13)).astype(np.float32)
        node = CnnNode(node="root", classes=["a", "b"], features=features, normalizer=Normalizer.fit(windows),
                       cnn=build_cnn(2, ModelConfig(), features))
        save_node(node, {str(tmp_path)!r})
        loaded = load_node({str(tmp_path)!r}, "root", "keras")
        rows = loaded.predict_proba(windows).shape[0]
        after_prediction = threads()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pinned_late = pin_training_threads()  # TensorFlow runs already: training here cannot pin
        print(json.dumps([after_import, after_prediction, rows, pinned_late, [str(w.message) for w in caught]]))
        """
    )
    after_import, after_prediction, rows, pinned_late, warned = report
    assert after_import == after_prediction == [0, 0] and rows == 4  # 0: TensorFlow's own default
    assert pinned_late is False and len(warned) == 1 and "weights may differ" in warned[0]


def test_a_process_that_trains_runs_tensorflow_on_the_training_threads():
    assert run_python(
        """
        import json
        import hiergenre.training.keras_loop  # what training imports before its first network
        import tensorflow as tf

        threading = tf.config.threading
        print(json.dumps([threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads()]))
        """
    ) == [1, 1]
