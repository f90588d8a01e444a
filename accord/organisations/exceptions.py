from accord.audit.exceptions import NotPermitted, Refused

__all__ = ["InvitationInvalid", "NotPermitted", "Refused"]


class InvitationInvalid(Refused):
    """The invitation link is unknown, used, revoked, expired or meant for someone else."""
