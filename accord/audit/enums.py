from django.db import models


class Outcome(models.TextChoices):
    SUCCESS = "success", "Succeeded"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"
    PERMIT = "permit", "Access permitted"
    DENY = "deny", "Access denied"


GENESIS_HASH = "0" * 64
