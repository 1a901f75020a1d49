"""``hiergenre predict --min-confidence``: the text names the node decided with the probability that decided it.

Issue 27 (6): a clip nothing below the root was sure of printed ``root (classical, …) p 1.00`` and a
route that read as a confident answer; a clip stopped at a group never showed the whole-path
probability that fell short of the threshold. The text must agree with the JSON's ``decoded``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hiergenre.cascade.hierarchy import ROOT as TREE_ROOT
from hiergenre.cascade.hierarchy import GenreTree
from tests.commands import ROOT

DEFAULT = GenreTree.from_yaml_text((ROOT / "hierarchies" / "default.yaml").read_text(), "default")


def share(node: str, distribution: dict[str, float]) -> float:
    """The probability that the genre lies below ``node``."""
    return sum(distribution[genre] for genre in DEFAULT.leaves_under(node))


def best_below(node: str, distribution: dict[str, float]) -> tuple[str, float]:
    """The most probable child of ``node`` and its share."""
    child = max(DEFAULT.children(node), key=lambda c: share(c, distribution))
    return child, share(child, distribution)


def group_stop_threshold(clips: list[Path], cli, workdir: Path) -> float:
    """A minimum confidence at which the first clip stops at the group below the root (between the two shares)."""
    entry = json.loads(cli("predict", clips[0], "--top", "10", "--json", workdir=workdir).stdout)[0]
    distribution = {t["genre"]: t["p"] for t in entry["top"]}
    group, p_group = best_below(TREE_ROOT, distribution)
    _, p_child = best_below(group, distribution)
    assert p_child < p_group, "the shared workspace gives this clip the same share in a group and below it"
    return round((p_group + p_child) / 2, 4)


def test_min_confidence_text_shows_the_deciding_probability_and_agrees_with_json(cli, trained, tiny_corpus):
    clips = sorted(tiny_corpus.glob("*/*.00000.au"))
    kinds = set()
    for threshold in (0.0, group_stop_threshold(clips, cli, trained), 0.999):
        options = ("--min-confidence", str(threshold))
        out = json.loads(cli("predict", *clips, *options, "--top", "10", "--json", workdir=trained).stdout)
        legend, *lines = cli("predict", *clips, *options, workdir=trained).stdout.splitlines()
        shown = f"{threshold:.2f}" if round(threshold, 2) == threshold else f"{threshold:g}"  # 0.999, not 1.00
        assert f"min confidence {shown}: a genre or group" in legend
        assert len(lines) == len(out) == len(clips)
        for entry, line in zip(out, lines, strict=True):
            decoded, distribution = entry["decoded"], {t["genre"]: t["p"] for t in entry["top"]}
            assert line.startswith(f"{entry['file']}: ")
            if decoded["leaf"]:
                kinds.add("genre")
                assert f": {decoded['node']} (p={decoded['p']:.2f})  root → " in line
                continue
            # stopped above the genres: the route is the routing's guess, and the shortfall is shown
            assert "routing's guess: root → " in line
            child, p_child = best_below(decoded["node"], distribution)
            assert p_child < threshold <= decoded["p"] + 1e-9
            if decoded["node"] == TREE_ROOT:
                kinds.add("root")
                assert "p 1.00" not in line
                said = f"no answer (root): no group or genre reached p {shown}; the best, {child}, has "
                assert said in line
            else:
                kinds.add("group")
                assert f": {decoded['node']} ({', '.join(DEFAULT.leaves_under(decoded['node']))}) " in line
                assert f" p {decoded['p']:.2f}; below it, the best, {child}, has " in line
            short = re.search(r"the best, \w+, has (\d\.\d+)", line)
            assert short and float(short.group(1)) == pytest.approx(p_child, abs=0.006)
            assert float(short.group(1)) < threshold  # printed with the digits that show it fell short
    assert kinds == {"genre", "group", "root"}
