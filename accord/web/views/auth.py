"""Signing in and out, two-factor sign-in, and password reset.

Sign-in is two steps for anyone who can see personal data: the password step only remembers
who passed it (for five minutes); the person is logged in once the authenticator code is right.
"""

from __future__ import annotations

import time
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.enums import Outcome
from accord.organisations.actors import actor_for, actor_signing_in
from accord.organisations.models import User

from ..forms import ChangePasswordForm, CodeForm, NewPasswordForm, ResetRequestForm, SignInForm
from ..middleware import two_factor_verified

PENDING_USER = "accord_pending_user"
PENDING_SINCE = "accord_pending_since"
PENDING_NEXT = "accord_pending_next"
ENROL_DEVICE = "accord_enrol_device"
PENDING_SECONDS = 5 * 60


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _pending_user(request: HttpRequest) -> User | None:
    """The person who passed the password step and still owes the second factor."""
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        return request.user
    user_id = request.session.get(PENDING_USER)
    since = request.session.get(PENDING_SINCE, 0)
    if not user_id or time.time() - float(since) > PENDING_SECONDS:
        return None
    return User.objects.filter(pk=user_id, is_active=True).first()


def _confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def _complete_sign_in(request: HttpRequest, user: User, device: TOTPDevice | None) -> HttpResponse:
    next_url = _safe_next(request, request.session.get(PENDING_NEXT))
    if not request.user.is_authenticated:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if device is not None:
        otp_login(request, device)
        record(
            by=actor_signing_in(request, user),
            action="auth.second_factor_passed",
            target=f"user:{user.pk}",
        )
    for key in (PENDING_USER, PENDING_SINCE, PENDING_NEXT, ENROL_DEVICE):
        request.session.pop(key, None)
    return redirect(next_url)


def sign_in(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and two_factor_verified(request.user):
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.get_user()
        assert isinstance(user, User)
        request.session[PENDING_NEXT] = _safe_next(request, request.GET.get("next"))
        if not user.requires_two_factor():
            return _complete_sign_in(request, user, None)
        request.session[PENDING_USER] = user.pk
        request.session[PENDING_SINCE] = time.time()
        if _confirmed_device(user):
            return redirect("web:sign_in_code")
        return redirect("web:two_factor_setup")
    return render(
        request,
        "web/account/sign_in.html",
        {"form": form, "expired": request.GET.get("expired") == "1"},
    )


def sign_in_code(request: HttpRequest) -> HttpResponse:
    user = _pending_user(request)
    if user is None:
        messages.info(request, "Sign in again: the sign-in step timed out.")
        return redirect("web:sign_in")
    device = _confirmed_device(user)
    if device is None:
        return redirect("web:two_factor_setup")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            return _complete_sign_in(request, user, device)
        record(
            by=actor_signing_in(request, user),
            action="auth.second_factor_failed",
            target=f"user:{user.pk}",
            outcome=Outcome.FAILED,
        )
        form.add_error(
            "code",
            "The security code is not right. Check the code in your authenticator app for "
            "Accord and enter the newest one.",
        )
    return render(request, "web/account/sign_in_code.html", {"form": form})


def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: show a QR code and the key, and confirm one code."""
    user = _pending_user(request)
    if user is None:
        return redirect("web:sign_in")
    if _confirmed_device(user):
        return redirect("web:sign_in_code")
    device = TOTPDevice.objects.filter(
        pk=request.session.get(ENROL_DEVICE), user=user, confirmed=False
    ).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
        request.session[ENROL_DEVICE] = device.pk
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record(
                by=actor_signing_in(request, user),
                action="auth.two_factor_enrolled",
                target=f"user:{user.pk}",
            )
            return _complete_sign_in(request, user, device)
        form.add_error(
            "code",
            "The security code is not right. Check the app shows Accord and that your "
            "phone's clock is correct, then enter the newest code.",
        )
    qr = segno.make(device.config_url, error="m").svg_inline(scale=5, omitsize=True)
    return render(
        request,
        "web/account/two_factor_setup.html",
        {"form": form, "qr_svg": qr, "secret": _spaced(_base32(device))},
    )


def _base32(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode().rstrip("=")


def _spaced(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        assert isinstance(request.user, User)
        logout(request)
    messages.success(request, "You have signed out.")
    return redirect("web:sign_in")


def locked_out(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    """Axes calls this when an account is locked after repeated failed sign-ins."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/account/locked_out.html", {"minutes": minutes}, status=429)


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "web/account/password_reset.html"
    form_class = ResetRequestForm
    email_template_name = "web/email/password_reset.txt"
    subject_template_name = "web/email/password_reset_subject.txt"
    success_url = reverse_lazy("web:password_reset_sent")

    def form_valid(self, form: Any) -> HttpResponse:
        # The same answer whether or not the address has an account (no account discovery).
        record(
            by=Actor.anonymous(form.cleaned_data["email"]),
            action="auth.password_reset_requested",
        )
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/account/password_reset_confirm.html"
    form_class = NewPasswordForm
    success_url = reverse_lazy("web:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(by=actor_for(form.user), action="auth.password_reset", target=f"user:{form.user.pk}")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/account/password_change.html"
    form_class = ChangePasswordForm
    success_url = reverse_lazy("web:home")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        record(
            by=actor_for(form.user, getattr(self.request, "membership", None)),
            action="auth.password_changed",
            target=f"user:{form.user.pk}",
        )
        messages.success(self.request, "Your password has been changed.")
        return response

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect(f"{reverse('web:sign_in')}?next={request.path}")
        return super().dispatch(request, *args, **kwargs)


class TemplatePage(TemplateView):
    """A plain page of text (after a reset link is sent, after a password is reset)."""
