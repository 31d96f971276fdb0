"""Collection: inkasso providers (outbox, Kravia, Debitura) behind one interface. The workflow that
approves, re-checks and pushes cases exactly once, then follows them up, is ``connector.actions.collection``."""
