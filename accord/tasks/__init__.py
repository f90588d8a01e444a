"""Background work: the progress of long tasks, for pages and the command line, and the
worker that runs queued tasks (ADR 0009).

Tasks themselves are Django tasks (the ``django-tasks`` backport), defined by the app whose work
they do; this app only reports how far they have got and runs the queue.
"""
