class Refused(Exception):
    """An action was refused for a reason the person can be told (not permitted, not allowed now).

    Actions raise it inside their transaction; the ``audited`` wrapper rolls the transaction
    back and then records the refusal in a transaction of its own, so refusals are never lost.
    """

    def __init__(self, reason: str, *, target: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.target = target


class NotPermitted(Refused):
    """The actor lacks the membership or role the action needs."""
