"""Optional sampling profiles of the services while the bench loads them (``--profile``), with py-spy
(``pip install py-spy``; not a project dependency). Raw collapsed stacks are kept, and a summary of
where each service spends its CPU (self and inclusive, by function) is printed and stored.

``python -m bench.profiling FILE...`` summarises collapsed-stack files again.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def py_spy() -> str | None:
    local = Path(sys.executable).parent / "py-spy"
    return str(local) if local.exists() else shutil.which("py-spy")


@dataclass
class Profiler:
    directory: Path
    rate: int = 67
    running: dict[str, tuple[subprocess.Popen[bytes], Path]] = field(default_factory=dict)

    def start(self, label: str, pids: dict[str, int], seconds: float) -> bool:
        binary = py_spy()
        if binary is None:
            return False
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, pid in pids.items():
            output = self.directory / f"{label}-{name}.txt"
            command = [binary, "record", "--pid", str(pid), "--duration", str(max(1, int(seconds))), "--rate"]
            command += [str(self.rate), "--nonblocking", "--format", "raw", "--output", str(output)]
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.running[f"{label}-{name}"] = (process, output)
        return True

    def finish(self, top: int = 12) -> dict[str, Any]:
        summaries: dict[str, Any] = {}
        for key, (process, output) in self.running.items():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=10)
            if output.exists():
                summaries[key] = {"file": str(output), **summarise(output.read_text(), top)}
        self.running.clear()
        return summaries


def _function(frame: str) -> str:
    # py-spy raw frames look like "function (path/to/module.py:123)"; drop the line number.
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{name} ({path})" if path else name


def summarise(collapsed: str, top: int = 12) -> dict[str, Any]:
    """Self and inclusive sample shares by function, from py-spy's collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [_function(f) for f in stack.split(";") if f and not f.startswith("process ")]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count

    def share(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, round(100 * n / max(total, 1), 1)) for name, n in counter.most_common(top)]

    return {"samples": total, "self_percent": share(own), "inclusive_percent": share(inclusive)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profiling", description=__doc__)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args(argv)
    for path in args.files:
        result = summarise(path.read_text(), args.top)
        print(f"== {path} ({result['samples']} samples)")
        print("  self:")
        for name, percent in result["self_percent"]:
            print(f"    {percent:5.1f}%  {name}")
        print("  inclusive:")
        for name, percent in result["inclusive_percent"]:
            print(f"    {percent:5.1f}%  {name}")


if __name__ == "__main__":
    main()
