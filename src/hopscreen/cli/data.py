"""``hopscreen data``: fetch and inspect the published datasets.

The commands only parse options and call :mod:`hopscreen.data`.
"""

from __future__ import annotations

import json
import warnings
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hopscreen.data.download import diagnose, verify
from hopscreen.data.download import download as fetch
from hopscreen.data.em_dataset import join_tabulation, load_em_dataset, summarize_em_dataset
from hopscreen.data.litraj_archive import LITRAJ_URLS, check_name, download_litraj, litraj_status
from hopscreen.data.manifest import DATASETS
from hopscreen.data.paths import HopscreenDataError, resolve_data_dir
from hopscreen.data.pretrain import count_pretrain_records

app = typer.Typer(
    help="Fetch and check the published migration-barrier dataset and pre-training corpus.",
    no_args_is_help=True,
)


class DatasetChoice(StrEnum):
    """Datasets ``download`` accepts."""

    em_dataset = "em_dataset"
    pretrain = "pretrain"
    litraj_nebdft2k = "litraj-nebdft2k"
    litraj_nebbvse122k = "litraj-nebbvse122k"
    all = "all"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"Error: {message}", err=True)
    return typer.Exit(code=1)


@app.command()
def download(
    dest: Annotated[
        Path | None,
        typer.Option(
            "--dest",
            help="Data directory (default: $HOPSCREEN_DATA_DIR or the settings file's data_dir, "
            "else the user cache).",
        ),
    ] = None,
    dataset: Annotated[
        DatasetChoice, typer.Option("--dataset", help="Which dataset to fetch.")
    ] = DatasetChoice.em_dataset,
    force: Annotated[
        bool, typer.Option("--force", help="Fetch again even if intact files are present.")
    ] = False,
    progress: Annotated[
        bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")
    ] = True,
) -> None:
    """Download the upstream files at their pinned commit and verify their sha256.

    ``all``: the pinned datasets; LiTraj sets (checksum recorded on first download) by name.
    """
    root = resolve_data_dir(dest)
    names = list(DATASETS) if dataset is DatasetChoice.all else [dataset.value]
    errors = []
    for name in names:
        if name.startswith("litraj-"):
            error = _download_litraj(name, root, force)
            if error:
                errors.append(error)
            continue
        try:
            paths = fetch(root, datasets=(name,), force=force, progress=progress)
        except HopscreenDataError as exc:
            errors.append(str(exc))
            continue
        except OSError as exc:  # urllib.error.URLError, timeouts, permissions
            errors.append(
                f"downloading {name} into {root} failed: {exc}. Check network "
                "access to raw.githubusercontent.com and retry."
            )
            continue
        typer.echo(f"{name}: {len(paths)} file(s) verified in {root / name}")
    if errors:
        raise _fail(" ".join(errors))


def _download_litraj(name: str, root: Path, force: bool) -> str | None:
    """Fetch one LiTraj set; echo its notes and result, return an error message or None."""
    url = LITRAJ_URLS[check_name(name)]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            folder = download_litraj(name, root, force=force)
    except HopscreenDataError as exc:
        return str(exc)
    except OSError as exc:
        return f"downloading {url} into {root} failed: {exc}. Check network access and retry."
    for w in caught:
        typer.echo(f"note: {w.message}", err=True)
    typer.echo(f"{name}: extracted in {folder} (archive sha256 checked)")
    return None


@app.command()
def info(
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Data directory (default: $HOPSCREEN_DATA_DIR or the settings file's data_dir, "
            "else the user cache).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the data directory, the check of every file and the record counts."""
    root = resolve_data_dir(data_dir)
    statuses = verify(root)
    problem = diagnose(statuses, root)
    if problem is not None:
        raise _fail(problem)
    try:
        em = summarize_em_dataset(load_em_dataset(root, with_structures=False))
        em["join"] = join_tabulation(root)[1].model_dump(include={"n_matched", "ok"})
        pretrain_ok = all(s.ok for s in statuses if s.dataset == "pretrain" and s.required)
        pretrain = count_pretrain_records(root) if pretrain_ok else None
    except HopscreenDataError as exc:
        raise _fail(str(exc)) from None

    if as_json:
        typer.echo(
            json.dumps(
                {
                    "data_dir": str(root),
                    "files": [s.model_dump() for s in statuses],
                    "em_dataset": em,
                    "pretrain": {
                        "records": pretrain,
                        "note": None if pretrain else DATASETS["pretrain"].note,
                    },
                    "litraj": litraj_status(root),
                },
                indent=2,
            )
        )
        return

    typer.echo(f"data directory: {root}")
    for s in statuses:
        state = "ok" if s.ok else ("absent" if not s.present else "BAD sha256")
        size = f"{s.size:>10,d} B" if s.size is not None else " " * 12
        optional = "" if s.required else " (optional)"
        typer.echo(f"  {state:<10} {size}  {s.path}{optional}")
    typer.echo(
        f"em_dataset: {em['n_records']} records, splits {em['splits']}, "
        f"joined to spreadsheet {em['join']['n_matched']}"
    )
    typer.echo(f"  working ions: {em['working_ions']}")
    typer.echo(f"  XC functionals: {em['xc_functionals']}")
    if pretrain is None:
        typer.echo(f"pretrain: not present. {DATASETS['pretrain'].note}")
    else:
        typer.echo(f"pretrain: {sum(pretrain.values())} records {pretrain}")
    for lt in litraj_status(root):
        typer.echo(f"{lt['dataset']}: {lt['state']} ({lt['note']})")
