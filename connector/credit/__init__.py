"""Credit risk of a customer before a sale: public register facts plus the client's own ledger history.

Pure: ``facts`` (the types), ``history`` (the ledger part), ``thresholds`` (the TOML table) and
``risk`` (the evaluation) do no I/O and read no clock. The register adapters live in
``connector.registry``; the dated cache of their answers in ``connector.store.credit``.
"""
