"""Progress of background work, polled by the progress indicator (web/tasks/progress.html).

Only members of the organisation whose work it is see it; anyone else gets 404, as if there were
no such work. The indicator sends the step it last showed; while the work is still on that step
the answer is 204 No Content, which htmx leaves on the page as it is, so screen readers announce
each step once rather than every second.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accord.organisations.models import User
from accord.tasks.queries import progress_visible_to


@never_cache
@require_GET
@login_required
def task_progress(request: HttpRequest, progress_id: uuid.UUID) -> HttpResponse:
    user = request.user
    progress = progress_visible_to(user, progress_id) if isinstance(user, User) else None
    if progress is None:
        raise Http404("There is no such work.")
    if request.headers.get("HX-Request") and request.GET.get("shown") == progress.shown_step:
        return HttpResponse(status=204)
    return render(request, "web/tasks/progress_bar.html", {"progress": progress})


urlpatterns: list[URLPattern] = [
    path("tasks/<uuid:progress_id>/progress/", task_progress, name="task_progress"),
]
