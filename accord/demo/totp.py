"""Authenticators for demo personas, and the guard that keeps the demo out of production.

Personas who can see personal data must pass two-factor sign-in. In the demo their authenticators
are enrolled in advance, and the secret is printed so a tester can add it to an authenticator
app; ``accord demo code USERNAME`` prints the current code for a tester without one. Nothing is
stored beyond the django-otp device, which holds the key.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.organisations.models import User

DEMO_DEVICE_NAME = "Demo authenticator"


class DemoModeOnly(RuntimeError):
    """Refused: this installation runs in production."""


def ensure_demo_mode(what: str = "The demo") -> None:
    if settings.PRODUCTION or not settings.DEMO_MODE:
        raise DemoModeOnly(
            f"{what} is for demo installations only. This one runs with ACCORD_ENV=production, "
            "where synthetic organisations, shared passwords and printed authenticator secrets "
            "must never appear. Nothing was changed."
        )


def sign_in_device(user: User) -> TOTPDevice | None:
    """The device sign-in asks a code from: the user's first confirmed TOTP device."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def enrol(user: User) -> TOTPDevice:
    """A confirmed authenticator with a freshly generated key (django-otp's default: 20
    random bytes from the operating system's generator)."""
    ensure_demo_mode("Pre-enrolling authenticators")
    return TOTPDevice.objects.create(user=user, name=DEMO_DEVICE_NAME, confirmed=True)


def secret_base32(device: TOTPDevice) -> str:
    """The key as an authenticator app expects it typed in (RFC 4648 base32, no padding)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


@dataclass(frozen=True)
class CurrentCode:
    code: str
    seconds_left: int  # until the next code
    already_used: bool  # sign-in accepts each code once; wait for the next one


def current_code(user: User, *, at: float | None = None) -> CurrentCode:
    """The code ``user``'s authenticator shows now. Demo mode only.

    Reading the code does not use it up: nothing is verified or saved here.
    """
    ensure_demo_mode("Printing sign-in codes")
    device = sign_in_device(user)
    if device is None:
        raise TOTPDevice.DoesNotExist(f"{user.username} has no authenticator enrolled.")
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    step = int(device.step)
    elapsed = int(totp.time - device.t0) % step
    return CurrentCode(
        code=f"{totp.token():0{device.digits}d}",
        seconds_left=step - elapsed,
        already_used=device.last_t >= totp.t(),
    )
