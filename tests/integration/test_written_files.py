"""Files the commands write get the permissions of a plain ``open`` (umask 022 gives 0644), not mkstemp's 0600."""

from __future__ import annotations

import os
import stat

from tests.commands import ROOT


def test_written_files_get_the_permissions_of_a_plain_open(cli, trained_copy, tiny_corpus, tmp_path):
    previous = os.umask(0o022)
    try:
        cli("build-tree", ROOT / "hierarchies" / "default.yaml", workdir=trained_copy)
        out = tmp_path / "all.csv"
        cli("predict", tiny_corpus / "jazz", "-o", out, workdir=trained_copy)
        report = tmp_path / "report"
        cli("evaluate", "--report", report, workdir=trained_copy)
    finally:
        os.umask(previous)
    written = [trained_copy / "tree.png", trained_copy / "tree.yaml", out, report / "report.md"]
    written += list(report.glob("*.png"))
    assert len(written) > 5  # the report's figures too
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path
