"""The memory cap of a ``hopscreen`` command: an address-space limit set before any work.

Every command runs under a cap (``--max-memory-gb``, default 80 % of the machine's physical
memory): the operating system refuses allocations beyond it, Python raises ``MemoryError``,
and the command ends with one ``error:`` line and exit code 1 instead of driving the machine
into swap or the OOM killer. The cap bounds the process's virtual address space
(``RLIMIT_AS``), which is larger than its resident memory: a PyTorch process reserves some
address space it never touches, so caps below about 2 GB can refuse work that would fit.
"""

from __future__ import annotations

import os
import resource

DEFAULT_FRACTION = 0.8
"""Default cap as a fraction of physical memory."""

_GB = 1024**3


def physical_memory_gb() -> float:
    """Physical memory of this machine, GiB."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / _GB


def default_memory_cap_gb() -> float:
    """The cap used when none is given: 80 % of physical memory, GiB."""
    return DEFAULT_FRACTION * physical_memory_gb()


def apply_memory_cap(gigabytes: float) -> float:
    """Limit this process (and the processes it starts) to ``gigabytes`` of address space.

    Parameters
    ----------
    gigabytes : float
        The cap, GiB (> 0). A cap above an existing hard limit is lowered to it.

    Returns
    -------
    float
        The cap in force, GiB.

    Raises
    ------
    ValueError
        If ``gigabytes`` is not a positive finite number.
    """
    if not (gigabytes > 0 and gigabytes != float("inf")):
        raise ValueError(f"the memory cap must be a positive number of GB, got {gigabytes}")
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = int(gigabytes * _GB)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap / _GB
