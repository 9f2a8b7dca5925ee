"""Seconds since the benchmark launched this process (BENCH_T0, set by run.py)."""

import os
import time


def since_launch() -> float:
    return time.time() - float(os.environ["BENCH_T0"])
