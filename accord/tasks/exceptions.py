class ProgressFinished(Exception):
    """A finished piece of work was told to move on: finished is final."""
