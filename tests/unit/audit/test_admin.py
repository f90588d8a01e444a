"""The admin shows the audit log and checkpoints, and offers no way to change them."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.template.response import TemplateResponse
from django.test import RequestFactory

from accord.audit.admin import AuditCheckpointAdmin, AuditEventAdmin
from accord.audit.models import AuditCheckpoint, AuditEvent
from accord.organisations.models import User
from tests.factories import UserFactory

from .helpers import add_events

pytestmark = pytest.mark.django_db


def superuser() -> User:
    user = UserFactory(is_staff=True, is_superuser=True)
    assert isinstance(user, User)
    return user


@pytest.mark.parametrize(
    ("model", "admin_class"),
    [(AuditEvent, AuditEventAdmin), (AuditCheckpoint, AuditCheckpointAdmin)],
)
def test_even_a_superuser_can_only_look(model: type, admin_class: type) -> None:
    assert isinstance(admin.site._registry[model], admin_class)
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = superuser()
    (event,) = add_events(1)
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_delete_permission(request, event)
    assert model_admin.get_actions(request) == {}


def test_the_lists_and_a_record_render() -> None:
    from accord.audit.actor import Actor
    from accord.audit.checkpoints import create_checkpoint

    add_events(2)
    checkpoint = create_checkpoint(by=Actor.system("test"))
    user = superuser()
    user.is_verified = lambda: True  # type: ignore[attr-defined]  # django-otp's middleware
    for model, obj in ((AuditEvent, AuditEvent.objects.get(seq=1)), (AuditCheckpoint, checkpoint)):
        model_admin = admin.site._registry[model]
        request = RequestFactory().get("/admin/")
        request.user = user
        listing = model_admin.changelist_view(request)
        assert isinstance(listing, TemplateResponse)
        listing.render()
        assert listing.status_code == 200
        request = RequestFactory().get("/admin/")
        request.user = user
        page = model_admin.change_view(request, str(obj.pk))
        assert isinstance(page, TemplateResponse)
        page.render()
        assert page.status_code == 200
        assert b'name="_save"' not in page.content
