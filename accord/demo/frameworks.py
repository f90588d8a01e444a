"""The demo's framework: every demo organisation is a member, so any two of them can draft an
agreement from its templates in an afternoon."""

from __future__ import annotations

from collections.abc import Mapping

from accord.agreements import actions
from accord.agreements.frameworks import TEMPLATES, Clauses
from accord.agreements.models import Framework, FrameworkMember
from accord.organisations.models import Organisation

SLUG = "public-service-data-accord"
NAME = "Public Service Data Sharing Accord (demo)"
DESCRIPTION = (
    "A synthetic framework in the style of the Wales Accord on the Sharing of Personal "
    "Information: each member's chief executive signs it once, and agreements under it share "
    "its clauses on security, breach notification, retention and review."
)
CLAUSES = Clauses(
    jurisdictions=["england"],
    security={  # type: ignore[arg-type]
        "classification": "official_sensitive",
        "encryption_in_transit": "tls1_2_plus",
        "encryption_at_rest": True,
        "hosting_location": "uk_only",
        "access_control": "rbac",
        "assurance": ["dspt_standards_met", "cyber_essentials_plus"],
        "audit_logging": True,
    },
    breach_notify_hours=24,
    default_retention="P1Y",
    review_months=12,
    termination_notice_days=30,
    prohibited_uses=[
        "immigration_enforcement",
        "marketing",
        "commercial_resale",
        "reidentification",
    ],
)


def store_demo_framework(organisations: Mapping[str, Organisation]) -> list[str]:
    """Create the framework and its members where missing; say what was created."""
    from .loader import demo_actor  # the loader imports this module

    created: list[str] = []
    framework = Framework.objects.filter(slug=SLUG).first()
    if framework is None:
        framework = actions.create_framework(
            by=demo_actor(),
            slug=SLUG,
            name=NAME,
            description=DESCRIPTION,
            clauses=CLAUSES,
            template_types=list(TEMPLATES),
        )
        created.append(f"framework {NAME}")
    members = set(
        FrameworkMember.objects.filter(framework=framework).values_list(
            "organisation_id", flat=True
        )
    )
    for organisation in organisations.values():
        if organisation.pk not in members:
            actions.add_framework_member(
                by=demo_actor(), framework=framework, organisation=organisation
            )
            created.append(f"framework member {organisation.name}")
    return created
