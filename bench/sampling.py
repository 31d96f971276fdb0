"""Running a measured command in a child process: its wall time, CPU time and peak memory of its process tree.

Peak memory is sampled from outside every 200 ms as proportional set size (Linux ``/proc``): pages a forked
child still shares with its parent are counted once, so a run that forks slice processes is not counted
twice. CPU is user + system time of the child and of every process it waited for (its slice helpers).
Sampling costs the kernel a walk of each process's page tables: every 50 ms it took a quarter of a core
from a run that forks helpers to use both (issue 18), so 200 ms (the peaks it looks for last seconds).
"""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

SAMPLE_S = 0.2
ROOT = Path(__file__).resolve().parents[1]  # commands run from the checkout, so ``-m bench.…`` finds it


def tree_pss_mb(pid: int) -> float | None:
    """Memory of a process and its children, shared pages counted once (proportional set size, Linux)."""
    total_kb, pids = 0, [pid]
    try:
        while pids:
            p = pids.pop()
            with open(f"/proc/{p}/smaps_rollup") as f:
                total_kb += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                pids.extend(int(c) for c in f.read().split())
    except (OSError, StopIteration, ValueError):
        return None  # not Linux, or a process ended while it was read: skip this sample
    return total_kb / 1024


@dataclass
class Measured:
    out: str  # stdout, when it was captured (else "")
    wall_s: float
    cpu_s: float  # user + system of the child and the processes it waited for
    peak_mb: float  # largest proportional set size of the child's process tree


def run_sampled(cmd: list[str], stdout: IO[bytes] | None = None, env: dict[str, str] | None = None) -> Measured:
    """Run ``cmd``; its stdout goes to ``stdout`` (a file: a large output never fills a pipe while we only
    sample) or is captured. Raises SystemExit when it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = 0.0
    started = time.perf_counter()
    out = stdout if stdout is not None else subprocess.PIPE
    with subprocess.Popen(cmd, stdout=out, env=env, cwd=ROOT) as child:
        # captured output is read at the end: only for a short report (a pipe holds 64 KB), never a reader thread
        # competing for the CPU
        while child.poll() is None:
            peak = max(peak, tree_pss_mb(child.pid) or 0.0)
            time.sleep(SAMPLE_S)
        wall = time.perf_counter() - started
        captured = child.stdout.read() if child.stdout is not None else b""
        if child.returncode:
            raise SystemExit(f"measured command failed with exit code {child.returncode}: {' '.join(cmd)}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(captured.decode(), wall, cpu, peak)
