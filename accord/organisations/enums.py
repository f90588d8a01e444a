from django.db import models


class Sector(models.TextChoices):
    """Kinds of public body and provider (agreements-and-law.md §1.7, Party.sector)."""

    CENTRAL_GOVERNMENT_DEPARTMENT = "central_government_department", "Central government department"
    EXECUTIVE_AGENCY = "executive_agency", "Executive agency"
    DEVOLVED_GOVERNMENT = "devolved_government", "Devolved government"
    COMBINED_AUTHORITY = "combined_authority", "Combined authority"
    COUNTY_COUNCIL = "county_council", "County council"
    DISTRICT_COUNCIL = "district_council", "District council"
    UNITARY_AUTHORITY = "unitary_authority", "Unitary authority"
    METROPOLITAN_BOROUGH = "metropolitan_borough", "Metropolitan borough"
    LONDON_BOROUGH = "london_borough", "London borough"
    WELSH_PRINCIPAL_COUNCIL = "welsh_principal_council", "Welsh principal council"
    SCOTTISH_COUNCIL = "scottish_council", "Scottish council"
    NI_COUNCIL = "ni_council", "Northern Ireland council"
    NHS_ENGLAND = "nhs_england", "NHS England"
    ICB = "icb", "Integrated care board"
    NHS_TRUST = "nhs_trust", "NHS trust"
    GP_PRACTICE = "gp_practice", "GP practice"
    HEALTH_BOARD = "health_board", "Health board"
    POLICE = "police", "Police force"
    FIRE_AND_RESCUE = "fire_and_rescue", "Fire and rescue service"
    SCHOOL_MAINTAINED = "school_maintained", "Maintained school"
    ACADEMY_TRUST = "academy_trust", "Academy trust"
    CARE_PROVIDER = "care_provider", "Care provider"
    HOUSING_ASSOCIATION = "housing_association", "Housing association"
    VCS = "vcs", "Voluntary or community organisation"
    UNIVERSITY = "university", "University"
    COMMERCIAL = "commercial", "Commercial organisation"
    OTHER = "other", "Other"


class Role(models.TextChoices):
    """What a member may do for an organisation. Governance roles are named as in
    agreements-and-law.md §1.5; they sign agreements."""

    ORGANISATION_ADMIN = "organisation_admin", "Organisation admin"
    DATA_OFFICER = "data_officer", "Data officer"
    ANALYST = "analyst", "Analyst"
    VIEWER = "viewer", "Viewer"
    DPO = "dpo", "Data protection officer"
    SIRO = "siro", "Senior information risk owner"
    CALDICOTT_GUARDIAN = "caldicott_guardian", "Caldicott Guardian"
    INFORMATION_ASSET_OWNER = "information_asset_owner", "Information asset owner"
    CHIEF_EXECUTIVE = "chief_executive", "Chief executive"
    SENIOR_MANAGER = "senior_manager", "Senior manager"
    DESIGNATED_PERSON = "designated_person", "Designated person"


GOVERNANCE_ROLES = frozenset(
    {
        Role.DPO,
        Role.SIRO,
        Role.CALDICOTT_GUARDIAN,
        Role.INFORMATION_ASSET_OWNER,
        Role.CHIEF_EXECUTIVE,
        Role.SENIOR_MANAGER,
        Role.DESIGNATED_PERSON,
    }
)

# Every role but viewer can see personal data (submissions, extracts, audit trails that name
# people), so holding any of them requires two-factor sign-in.
PERSONAL_DATA_ROLES = frozenset(Role) - {Role.VIEWER}

# Roles that may read their organisation's shared data through the decision point.
DATA_READING_ROLES = frozenset(
    {
        Role.DATA_OFFICER,
        Role.ANALYST,
        Role.DPO,
        Role.CALDICOTT_GUARDIAN,
        Role.SIRO,
        Role.INFORMATION_ASSET_OWNER,
    }
)
