"""Benchmarks, run from the repository root as modules (`python -m benchmarks.NAME`), so that
they import `tracker` and the loopback servers of `tests.servers` like the tests do."""
