"""The memory cap of a command: enforced by the operating system, reported in one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hopscreen.cli.main as cli_main
from hopscreen.cli.memory import apply_memory_cap, default_memory_cap_gb, physical_memory_gb


def test_an_allocation_over_the_cap_fails() -> None:
    code = (
        "from hopscreen.cli.memory import apply_memory_cap\n"
        "import numpy as np\n"
        "apply_memory_cap(1.5)\n"
        "try:\n"
        "    np.ones(3 * 1024**3 // 8)\n"
        "except MemoryError:\n"
        "    print('refused')\n"
        "np.ones(100 * 1024**2 // 8)\n"  # well under the cap: still fine
        "print('small ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["refused", "small", "ok"], out.stderr


def test_default_cap_is_a_share_of_physical_memory() -> None:
    assert default_memory_cap_gb() == pytest.approx(0.8 * physical_memory_gb())


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_bad_caps_are_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="positive number"):
        apply_memory_cap(bad)


def test_out_of_memory_is_one_line_and_exit_1(monkeypatch, capsys) -> None:
    def boom() -> None:
        raise MemoryError

    monkeypatch.setattr(cli_main, "app", boom)
    monkeypatch.setattr(cli_main, "_ENFORCE", [])
    monkeypatch.setattr(cli_main, "_CAP_GB", [3.0])
    with pytest.raises(SystemExit) as exit_info:
        cli_main.main()
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("error: out of memory: the command reached its memory cap (3.0 GiB")


def test_the_command_line_applies_the_cap() -> None:
    code = (
        "import resource, sys\n"
        "sys.argv = ['hopscreen', '--max-memory-gb', '7', 'models', 'list']\n"
        "from hopscreen.cli.main import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] / 1024**3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert float(out.stdout.split()[-1]) == pytest.approx(7.0), out.stderr
