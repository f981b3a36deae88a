"""Benchmarks of fer_ros against the `fer` package (PyPI), measured in one run.

Run ``python benchmarks/run.py`` from the repository root; see
the Benchmarks section of README.md.
"""
