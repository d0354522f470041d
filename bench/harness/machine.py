"""The machine figures were taken on, in one phrase: shared by bench/run and tests/faults_report.py."""
import os
import pathlib
import platform


def machine() -> str:
    """'2 cores (AMD EPYC 7B13), Linux 6.18.44'."""
    model = "unknown CPU"
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} cores ({model}), Linux {platform.release()}"
