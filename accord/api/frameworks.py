"""Frameworks through the API: what the framework pages show. Frameworks are not shared data,
so any valid token may read every framework: its common clauses, the agreement templates it
offers, its member organisations and how long agreements under it took to come into force."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import Router

from accord.agreements import actions, frameworks, queries
from accord.agreements.models import Framework

from .agreements import DENIALS
from .auth import caller
from .schemas import FrameworkDetail, FrameworkMemberOut, FrameworkSummary, FrameworkTemplateOut

router = Router(tags=["frameworks"])


@router.get("/frameworks", response={200: list[FrameworkSummary], **DENIALS})
def list_frameworks(request: HttpRequest) -> list[FrameworkSummary]:
    """Every framework on Accord, by name."""
    caller(request)
    return [
        FrameworkSummary(
            slug=f.slug,
            name=f.name,
            description=f.description,
            template_types=list(f.template_types),
            members=len(f.members.all()),
        )
        for f in Framework.objects.prefetch_related("members").order_by("name")
    ]


@router.get("/frameworks/{slug}", response={200: FrameworkDetail, **DENIALS})
def get_framework(request: HttpRequest, slug: str) -> FrameworkDetail:
    """The framework's clauses, templates, members, agreements in force under it and the days
    each took from first draft to in force."""
    caller(request)
    framework = Framework.objects.filter(slug=slug).first()
    if framework is None:
        raise Http404(f"There is no framework called '{slug}'.")
    durations = queries.durations(framework)
    templates = [frameworks.TEMPLATES[t] for t in framework.template_types]
    return FrameworkDetail(
        slug=framework.slug,
        name=framework.name,
        description=framework.description,
        clauses=actions.clauses_of(framework).model_dump(mode="json"),
        templates=[
            FrameworkTemplateOut(
                agreement_type=t.agreement_type,
                title=t.title,
                summary=t.summary,
                personal_data=t.personal_data,
                reciprocal=t.reciprocal,
            )
            for t in templates
        ],
        members=[
            FrameworkMemberOut(id=o.pk, name=o.name) for o in queries.framework_members(framework)
        ],
        agreements_in_force=framework.agreements.filter(status="active").count(),
        median_days_to_active=durations.median,
        days_to_active=list(durations.days),
    )
