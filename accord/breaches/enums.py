"""Who may do what with breaches, and the vocabularies of a breach record."""

from __future__ import annotations

from django.db import models

from accord.organisations.enums import DATA_READING_ROLES, Role

# See and act on an agreement's breaches: the people accountable for their organisation's
# information (the same as may suspend an agreement: accord.agreements.enums.DECIDING_ROLES).
BREACH_ROLES: frozenset[Role] = frozenset(
    {
        Role.DPO,
        Role.SIRO,
        Role.INFORMATION_ASSET_OWNER,
        Role.CALDICOTT_GUARDIAN,
        Role.CHIEF_EXECUTIVE,
        Role.SENIOR_MANAGER,
    }
)

# Report a suspected breach: anyone who handles the shared data, as well as the above. A
# viewer sees no personal data and an organisation admin manages members; they tell their DPO.
REPORTING_ROLES: frozenset[Role] = BREACH_ROLES | DATA_READING_ROLES

# Who at each party is told of a breach.
TOLD_ROLES: tuple[str, ...] = (Role.DPO, Role.SIRO)


class Status(models.TextChoices):
    REPORTED = "reported", "Reported"
    CONTAINED = "contained", "Contained"
    ASSESSED = "assessed", "Assessed"
    CLOSED = "closed", "Closed"


class Risk(models.TextChoices):
    """The risk to individuals' rights and freedoms (UK GDPR Articles 33 and 34)."""

    UNLIKELY = "unlikely", "Unlikely to result in a risk"
    RISK = "risk", "Likely to result in a risk"
    HIGH = "high", "Likely to result in a high risk"
