from typing import Any

from django.conf import settings
from django.http import HttpRequest


def accord(request: HttpRequest) -> dict[str, Any]:
    membership = getattr(request, "membership", None)
    return {
        "demo_mode": settings.DEMO_MODE,
        "current_membership": membership,
        "current_organisation": membership.organisation if membership else None,
        "memberships": getattr(request, "memberships", []),
    }
