"""Benchmarks, each a module printing a table. Run them from the repository root as modules
(``python -m bench.ledger_sync_bench --help``) so the test fakes import as ``tests.fakes``."""
