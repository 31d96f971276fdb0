"""arsync's tests and their support code, a package so test helpers and benches import by name
(``from tests.fakes import FakeKravia``) from the repository root, never through ``sys.path`` edits.

Under pytest's default import mode this package's ``conftest.py`` puts the repository root on the
path; benches are run from the root as modules (``python -m bench.ledger_sync_bench``).
"""
