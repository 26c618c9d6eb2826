"""Benchmarks: scripts that print our figures beside baselines measured in the same run.

Run everything with ``make bench`` (``.venv/bin/python benchmarks/run_all.py``), or one script
from the repository root with ``.venv/bin/python -m benchmarks.<name> --help``. Nothing here is
part of the test run. Every history they use is SYNTHETIC (see :mod:`benchmarks.generate`).
"""
