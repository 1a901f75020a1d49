"""``--help`` and ``--version``: read like a Unix tool's, and list what the registries hold."""

from __future__ import annotations

import hiergenre


def test_version(cli):
    assert cli("--version").stdout == f"hiergenre {hiergenre.__version__}\n"


def test_help_reads_like_a_unix_tool(cli):
    text = cli("predict", "--help").stdout
    assert "Usage: hiergenre predict [OPTIONS] FILE..." in text
    assert "<list[" not in text and "<bool>" not in text and "{files}" not in text
    epochs = " ".join(cli("train-all", "--help").stdout.replace("│", " ").split())
    assert "[default: (the preset's: 1000 for" in epochs
    assert "[default: (ensemble on the default musicnn+lmfcc; the preset's cnn on lmfcc; stats on" in epochs
    assert "--features NAME Feature front-end the models learn from: 'lmfcc'" in epochs
    top = cli("--help").stdout
    assert "Exit codes: 0 success" in top and "<bool>" not in top


def test_help_lists_what_the_registries_hold(cli):
    from hiergenre.cascade.routing import ROUTING_POLICIES
    from hiergenre.presets import PRESETS

    text = " ".join(cli("train-all", "--help").stdout.split())
    assert all(f"'{name}'" in text for name in PRESETS) and "'auto'" in text
    routing = " ".join(cli("predict", "--help").stdout.split())
    assert all(f"'{name}'" in routing for name in ROUTING_POLICIES) and "--seed" not in routing
    assert "--seed" not in cli("evaluate", "--help").stdout
