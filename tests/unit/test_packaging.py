"""Packaging: one version, the genre trees shipped as package data, and ``build-tree NAME``.

These read pyproject.toml and the source tree instead of building a wheel (which needs setuptools
from the network): the package-data globs must cover every shipped tree, and the repository's
``hierarchies`` must be a link to those files, not a second copy that could drift.
"""

import fnmatch
import importlib.metadata
import os
import tomllib

import pytest

import hiergenre
from hiergenre.data.trees import load_tree, resolve_tree_file, shipped_tree_names
from hiergenre.errors import HierGenreError
from tests.commands import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PACKAGE = ROOT / "hiergenre"
SHIPPED = ["baseline3", "blues-classical-jazz", "default", "flat"]


def test_the_version_has_one_source():
    assert hiergenre.__version__ == "0.5.0"
    assert "version" not in PYPROJECT["project"] and "version" in PYPROJECT["project"]["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "hiergenre.__version__"}
    # the installed metadata agrees (stale only if the editable install predates a version change)
    assert importlib.metadata.version("hiergenre") == hiergenre.__version__


def test_every_shipped_tree_is_package_data():
    patterns = PYPROJECT["tool"]["setuptools"]["package-data"]["hiergenre"]
    files = sorted((PACKAGE / "hierarchies").glob("*.yaml"))
    assert [f.stem for f in files] == SHIPPED == shipped_tree_names()
    for file in files:
        relative = file.relative_to(PACKAGE).as_posix()
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), relative


def test_the_repository_hierarchies_folder_is_a_relative_link_to_the_package_trees():
    link = ROOT / "hierarchies"
    assert link.is_symlink() and not os.path.isabs(os.readlink(link))
    assert link.resolve() == (PACKAGE / "hierarchies").resolve()


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_name_builds_from_any_folder(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tree = load_tree(name)
    assert tree.name == name
    assert load_tree(f"{name}.yaml") == tree
    assert load_tree(ROOT / "hierarchies" / f"{name}.yaml") == tree


def test_an_existing_file_wins_over_a_shipped_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default.yaml").write_text("name: mine\ntree: [jazz, metal]\n")
    assert resolve_tree_file("default.yaml").resolve() == (tmp_path / "default.yaml").resolve()
    assert load_tree("default.yaml").leaves == ["jazz", "metal"]
    assert load_tree("default").name == "default"  # no file called 'default': the shipped tree


@pytest.mark.parametrize("argument", ["nope", "nope.yaml", "elsewhere/default.yaml"])
def test_neither_a_file_nor_a_shipped_name_is_one_line_listing_the_names(argument, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(HierGenreError) as error:
        resolve_tree_file(argument)
    message = str(error.value)
    assert "\n" not in message and argument in message
    assert "baseline3, blues-classical-jazz, default, flat" in message


def test_build_tree_command_takes_a_name(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    help_text = " ".join(cli("build-tree", "--help").stdout.replace("│", " ").split())  # unwrapped, any width
    assert "the name of a shipped tree: baseline3, blues-classical-jazz, default, flat" in help_text
    built = cli("build-tree", "blues-classical-jazz", workdir=tmp_path / "ws")
    assert "3 genres, 1 node model(s)" in built.stdout
    failed = cli("build-tree", "nope", workdir=tmp_path / "ws", check=False)
    assert failed.returncode != 0 and "Traceback" not in failed.stderr
    assert "shipped tree: baseline3, blues-classical-jazz, default, flat" in " ".join(failed.stderr.split())
