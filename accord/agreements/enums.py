"""Who may do what with agreements, by role in an organisation that is a party."""

from __future__ import annotations

from accord.organisations.enums import Role

# May start drafts, edit them, submit them for review, post and discuss data requests.
DRAFTING_ROLES: frozenset[Role] = frozenset(
    {
        Role.ORGANISATION_ADMIN,
        Role.DATA_OFFICER,
        Role.ANALYST,
        Role.DPO,
        Role.SIRO,
        Role.INFORMATION_ASSET_OWNER,
        Role.CALDICOTT_GUARDIAN,
    }
)

# May answer a data request made to their organisation, activate, suspend, resume and end
# agreements: the people accountable for their organisation's information.
DECIDING_ROLES: frozenset[Role] = frozenset(
    {
        Role.DPO,
        Role.SIRO,
        Role.INFORMATION_ASSET_OWNER,
        Role.CALDICOTT_GUARDIAN,
        Role.CHIEF_EXECUTIVE,
        Role.SENIOR_MANAGER,
    }
)
