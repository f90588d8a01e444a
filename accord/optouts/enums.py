"""The kinds of opt-out list, and who manages them."""

from __future__ import annotations

from django.db import models

from accord.organisations.enums import Role


class ListKind(models.TextChoices):
    # The National Data Opt-out: applies wherever an agreement says it does, whoever provides
    # the data.
    NATIONAL = "national_data_opt_out", "National Data Opt-out"
    # An organisation's own register of objections (Article 21 UK GDPR, or a local opt-out):
    # applies to the data that organisation provides, under agreements applying opt-outs.
    LOCAL = "local_objection", "Local objection list"


# Who may upload a new version of their organisation's list on the website (platform staff
# load lists from the command line).
MANAGING_ROLES = (Role.DPO,)
