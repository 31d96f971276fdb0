"""How the pure core is run: reading a client's facts (slice by slice for very large clients, in one or two
processes), calling ``connector.reconcile`` and ``connector.dunning`` on them with the cyclic GC paused, and
handing the decisions back. No sends, no provider calls: those are ``connector.actions``."""
