"""``hiergenre tag``: the predicted genre written into each file's own tags, a dry run unless ``--write``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hiergenre.cli.app import app, console, errors
from hiergenre.cli.options import (
    Command,
    DecodeOption,
    MinConfidenceOption,
    RoutingOption,
    TreeOption,
    WorkdirOption,
)
from hiergenre.errors import InvalidValue

if TYPE_CHECKING:
    from hiergenre.api_tag import TagReport
    from hiergenre.tagging.choice import TagChange


def values_text(values: list[str]) -> str:
    """A file's genre values for people: ``Rock; Metal``, or ``(none)``."""
    return "; ".join(values) if values else "(none)"


@app.command("tag", cls=Command)
def tag_command(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="PATH", help="Audio files or folders (mp3, flac, ogg, opus, wav, aiff).", show_default=False
        ),
    ] = None,
    write: Annotated[bool, typer.Option("--write", help="Change the files (without it: a dry run).")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a genre a file already has.")] = False,
    with_parents: Annotated[
        bool,
        typer.Option("--with-parents", help="Also write the labelled groups above the genre, most specific first."),
    ] = False,
    min_confidence: MinConfidenceOption = None,
    decode: DecodeOption = None,
    undo_log: Annotated[
        Path | None,
        typer.Option(metavar="FILE", help="With --write: where to record the values replaced (JSON)."),
    ] = None,
    undo: Annotated[
        Path | None,
        typer.Option(metavar="LOG", help="Restore what the --write run of this undo log replaced, and nothing else."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
    tree: TreeOption = None,
    routing: RoutingOption = "greedy",
    jobs: Annotated[int, typer.Option(metavar="N", help="Threads decoding files and computing features.")] = 2,
    workdir: WorkdirOption = None,
) -> None:
    """Write the predicted genre into each file's genre tag (a dry run unless --write).

    mp3: ID3v2 TCON (the file's ID3 version kept, ID3v1 untouched); FLAC, Ogg Vorbis, Opus: the
    GENRE comment; WAV, AIFF: their ID3 chunk. Nothing else in a file changes. Files that have a
    genre are kept unless --force. The value is the genre's label from the tree file's 'labels:';
    with --min-confidence or --decode hf1 a prediction may stop at a group, which writes its label
    or, without one, nothing. Each --write run records what it replaced in an undo log (its path
    is printed); --undo LOG restores it, refusing files changed since. Examples:

        hiergenre tag ~/music/new                 (dry run: old -> new per file)

        hiergenre tag ~/music/new --write --min-confidence 0.8 --with-parents

        hiergenre tag --undo ~/.local/state/hiergenre/tag-undo/20261203T190500.123456Z.json
    """
    from hiergenre import api_tag
    from hiergenre.cli.render import files_progress

    if undo is not None:
        if paths or write:
            raise InvalidValue("--undo restores a log's files: give no PATH and no --write with it")
        undo_command(undo, as_json)
        return
    if not paths:
        raise InvalidValue("give the audio files or folders to tag (or --undo LOG)")
    if undo_log is not None and not write:
        raise InvalidValue("--undo-log goes with --write (a dry run changes nothing)")
    with files_progress(errors) as on_done:
        report = api_tag.tag(
            paths,
            write=write,
            force=force,
            with_parents=with_parents,
            workdir=workdir,
            tree=tree,
            routing=routing,
            min_confidence=min_confidence,
            decode=decode,
            jobs=jobs,
            undo_log=undo_log,
            on_done=on_done,
        )
    if report.model.get("bundled"):
        from hiergenre.cli.use import bundled_model_notice

        errors.print(bundled_model_notice(workdir), highlight=False, soft_wrap=True)
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    for change in report.changes:
        if change.status == "error":
            errors.print(f"error: {change.reason}", highlight=False, soft_wrap=True)
        elif not as_json:
            console.print(change_line(change, write), highlight=False, soft_wrap=True)
    summary = summary_line(report)
    errors.print(summary, highlight=False, soft_wrap=True)
    if report.changes and report.count("error") == len(report.changes):
        raise typer.Exit(1)


def change_line(change: TagChange, written: bool) -> str:
    """One file's line: ``song.mp3: (none) -> Rock (rock p=0.81)``, or why it keeps its tag."""
    if change.status == "kept":
        return f"{change.file}: {values_text(change.before)} kept ({change.reason})"
    if change.status == "nothing":
        return (
            f"{change.file}: {values_text(change.before)} unchanged ({change.node} p={change.p:.2f}: {change.reason})"
        )
    arrow = "→" if change.status == "write" else "= already"
    verb = "" if change.status != "write" or written else " (dry run)"
    return (
        f"{change.file}: {values_text(change.before)} {arrow} {values_text(change.after)}"
        f"  ({change.node} p={change.p:.2f}){verb}"
    )


def summary_line(report: TagReport) -> str:
    """The last line: what changed, or would, and how to undo it; seconds per file."""
    files = len(report.changes)
    per_file = f"{report.seconds / files:.2f} s a file" if files else "no files"
    same, kept, nothing, failed = (report.count(status) for status in ("same", "kept", "nothing", "error"))
    counts = f"{same} already so, {kept} kept, {nothing} without a label to write, {failed} failed"
    if not report.written:
        return (
            f"dry run: {report.count('write')} of {files} files would change ({counts}; {per_file}); "
            "add --write to write them"
        )
    undo = f"; undo with: hiergenre tag --undo {report.undo_log}" if report.undo_log else ""
    return f"wrote {report.count('write')} of {files} files ({counts}; {per_file}){undo}"


def undo_command(log: Path, as_json: bool) -> None:
    """``--undo LOG``: restore each file, one line per file; exit 1 when some file was refused."""
    from hiergenre import api_tag

    outcomes = api_tag.undo_tags(log)
    if as_json:
        print(json.dumps([outcome.as_dict() for outcome in outcomes], indent=2))
    refused = [o for o in outcomes if not o.restored]
    for outcome in outcomes:
        if outcome.restored and not as_json:
            console.print(f"{outcome.path}: restored {values_text(outcome.values)}", highlight=False, soft_wrap=True)
        elif not outcome.restored:
            errors.print(f"error: {outcome.reason}", highlight=False, soft_wrap=True)
    errors.print(f"restored {len(outcomes) - len(refused)} of {len(outcomes)} files from {log}", highlight=False)
    if refused:
        raise typer.Exit(1)
