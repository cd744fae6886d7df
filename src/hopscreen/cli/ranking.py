"""The predicted ranking of a round, printed by ``hopscreen screen`` before verification starts.

The selection job writes every host's verdict and the predictions to the results store, so the
ranking can be shown while the (much slower) NEB verification still runs; the final summary
follows when the round ends.
"""

from __future__ import annotations

import logging
from pathlib import Path

from rich.console import Console
from rich.table import Table

from hopscreen.cli.query import cell_text
from hopscreen.store import ResultsStoreError, query_hosts, query_results

log = logging.getLogger(__name__)


def _hosts_table(results_dir: Path, top: int) -> Table | None:
    frame = query_hosts(results_dir)
    if frame.empty:
        return None
    table = Table(title=f"Hosts by p_good (predicted, {len(frame)} in all)", title_justify="left")
    for name in ("host", "formula", "p_good", "E_perc 1D eV", "2D eV", "3D eV"):
        table.add_column(name, justify="left" if name in ("host", "formula") else "right")
    for row in frame.head(top).itertuples():
        table.add_row(
            str(row.candidate_name),
            str(row.formula),
            cell_text(row.p_good, 2),
            cell_text(row.percolation_1d_ev, 2),
            cell_text(row.percolation_2d_ev, 2),
            cell_text(row.percolation_3d_ev, 2),
        )
    return table


def _hops_table(results_dir: Path, top: int) -> Table | None:
    frame = query_results(results_dir)
    if frame.empty:
        return None
    table = Table(title=f"Lowest predicted barriers ({len(frame)} hops)", title_justify="left")
    for name in ("host", "hop", "length Å", "E_m eV", "±90 % eV"):
        table.add_column(name, justify="left" if name in ("host", "hop") else "right")
    for row in frame.head(top).itertuples():
        table.add_row(
            str(row.candidate_name),
            str(row.hop_id)[:12],
            cell_text(row.length_angstrom, 2),
            cell_text(row.barrier_ev, 2),
            cell_text(row.interval_90_ev, 2),
        )
    return table


def print_predicted_ranking(
    console: Console, results_dir: Path, *, top_hosts: int = 8, top_hops: int = 10
) -> bool:
    """Print the ranked hosts and hops already in the store; False when none could be read.

    Parameters
    ----------
    console : rich.console.Console
        Where to print.
    results_dir : Path
        Results folder of the running round.
    top_hosts, top_hops : int
        Rows of each table.

    Returns
    -------
    bool
        Whether any table was printed (a store not readable yet is not an error here: the
        final summary still comes).

    """
    try:
        tables = [_hosts_table(results_dir, top_hosts), _hops_table(results_dir, top_hops)]
    except ResultsStoreError as exc:
        log.info("no predicted ranking yet: %s", exc)
        return False
    for table in tables:
        if table is not None:
            console.print(table)
    return any(t is not None for t in tables)
