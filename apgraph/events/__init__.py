"""Events after they are committed: the outbox relay (and, later, the bus and subscriptions)."""
