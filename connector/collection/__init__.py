"""Collection: inkasso providers (outbox, Kravia, Debitura) behind one interface, and the workflow
(workflow.py) that approves, re-checks and pushes cases exactly once, then follows them up."""
