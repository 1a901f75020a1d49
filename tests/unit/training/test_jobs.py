"""Node jobs cut short by Ctrl-C: what was saved is named, and no interrupted model reports itself finished."""

from __future__ import annotations

import pytest

from hiergenre.training.jobs import TrainingInterrupted, run_node_jobs
from hiergenre.training.tree import plan_tree
from tests.unit.training.test_training import PRESET, TREE, data


class CtrlCInSecondModel:
    """A reporter that records starts and finishes, and raises Ctrl-C in the first epoch of the second model."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.finished: list[str] = []

    def start(self, label: str, epochs: int) -> object:
        self.started.append(label)
        reporter, interrupt = self, len(self.started) == 2

        class Progress:
            def epoch(self, logs: object) -> None:
                if interrupt:
                    raise KeyboardInterrupt

            def finish(self) -> None:
                reporter.finished.append(label)

        return Progress()


def test_ctrl_c_names_the_saved_models_and_the_interrupted_one_never_reports_finished(tmp_path):
    clips, frames = data()
    kwargs = dict(epochs=2, seed=0, data_fingerprint="d", split_key="s")
    jobs = plan_tree(TREE, (clips, clips[:4]), frames, PRESET, tmp_path, **kwargs)
    reporter = CtrlCInSecondModel()
    with pytest.raises(TrainingInterrupted) as caught:
        run_node_jobs(jobs, workers=1, reporter=reporter)
    assert isinstance(caught.value, KeyboardInterrupt)  # still ends a program as Ctrl-C does
    first, second = reporter.started  # the largest job first (root), the third never started
    assert first == "tree/root" and caught.value.saved == ["tree/root"]
    assert caught.value.unfinished == [job.label for job in jobs if job.label != first]
    assert reporter.finished == [first]  # the model cut short did not look finished
    assert not (tmp_path / f"{second.split('/')[1]}.json").exists()
