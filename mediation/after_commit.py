"""Work done once after the current transaction commits, however many rows it changed.

An import saving 10,000 places in one transaction must move the data version
once and recompute the territory coverage once, not 10,000 times. Every save
queues the same pending call; the first one run after commit does the work, the
others find it done. A rolled back transaction runs nothing; outside a
transaction the work is done at once.
"""

from django.db import connection, transaction


class _Once:
    def __init__(self, work):
        self.work = work
        self.done = False

    def __call__(self):
        if not self.done:
            self.done = True
            self.work()


def once_after_commit(name, work):
    """Run `work()` once when the current transaction commits (`name` tells works apart)."""
    if not connection.in_atomic_block:
        work()
        return
    attribute = f"_once_after_commit_{name}"
    pending = getattr(connection, attribute, None)
    if pending is None or pending.done:
        pending = _Once(work)
        setattr(connection, attribute, pending)
    transaction.on_commit(pending)


def waiting(name):
    """Whether work `name` is queued for the commit of the current transaction."""
    pending = getattr(connection, f"_once_after_commit_{name}", None)
    return connection.in_atomic_block and pending is not None and not pending.done
