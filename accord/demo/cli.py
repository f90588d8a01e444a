"""`accord demo`: set up the synthetic demo, print every persona's login, and serve it.

    accord demo [--host HOST] [--port PORT] [--no-serve]
    accord demo code USERNAME     the persona's current two-factor code (for testers without an
                                  authenticator app)

Running it again reuses the installed demo and keeps its data (see ``accord.demo.loader``).
Both refuse to run in production.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from django.urls import reverse

from .loader import (
    PASSWORD_ENV,
    DemoConflict,
    DemoPassword,
    DemoSummary,
    PasswordSource,
    load_demo,
    resolve_password,
)
from .totp import DemoModeOnly, ensure_demo_mode

NOT_NEEDED = "not needed"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="load the synthetic demo and serve it",
        description="Load the synthetic demo (or reuse the one installed), print a login for "
        "each persona, and serve it. Demo installations only.",
    )
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--no-serve", action="store_true", help="set up and print logins only")
    parser.set_defaults(handler=handle)
    commands = parser.add_subparsers(dest="demo_command", metavar="{code}")
    code = commands.add_parser(
        "code",
        help="print a persona's current two-factor sign-in code",
        description="Print the 6-digit code a persona's authenticator shows now, so you can sign "
        "in without an authenticator app. Demo installations only.",
    )
    code.add_argument("username", help="the persona's username (email address)")
    code.set_defaults(handler=handle_code)


def handle(args: argparse.Namespace) -> int:
    from accord.cli.serve import migrate, serve

    try:
        ensure_demo_mode("`accord demo`")
    except DemoModeOnly as refusal:
        print(refusal, file=sys.stderr)
        return 2
    migrate()
    password = resolve_password()
    try:
        summary = load_demo(password=password.value, reset_passwords=password.resets_existing)
    except DemoConflict as conflict:
        print(f"The demo was not loaded: {conflict}", file=sys.stderr)
        return 1
    print_summary(summary, password, site_url=f"http://{args.host}:{args.port}")
    if not args.no_serve:
        serve(args.host, args.port)
    return 0


def handle_code(args: argparse.Namespace) -> int:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accord.organisations.models import User

    from .totp import current_code

    try:
        ensure_demo_mode("`accord demo code`")
    except DemoModeOnly as refusal:
        print(refusal, file=sys.stderr)
        return 2
    username = args.username.strip()
    user = User.objects.filter(username__iexact=username).first()
    if user is None:
        print(
            f"There is no account {username}. `accord demo --no-serve` lists the personas.",
            file=sys.stderr,
        )
        return 1
    try:
        now = current_code(user)
    except TOTPDevice.DoesNotExist:
        if user.requires_two_factor():
            reason = "has no authenticator yet: sign in and Accord will take you through set-up"
        else:
            reason = "signs in with the password alone (no role that can see personal data)"
        print(f"{user.username} {reason}, so there is no code to show.", file=sys.stderr)
        return 1
    print(now.code)
    if now.already_used:
        note = (
            f"This code was already used to sign in, and each code works once: "
            f"run this again in {now.seconds_left} seconds for the next one."
        )
    else:
        note = f"Sign-in code for {user.username}; it changes in {now.seconds_left} seconds."
    print(note, file=sys.stderr)
    return 0


# Printing ------------------------------------------------------------------------------------


def _table(rows: Sequence[Sequence[str]], out: TextIO) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip(), file=out
        )
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


def persona_rows(summary: DemoSummary) -> list[list[str]]:
    """One row per persona and organisation (a persona in two organisations has two rows)."""
    rows = [["Username", "Organisation", "Roles", "TOTP secret (base32)"]]
    for login in summary.personas:
        secret = login.totp_secret or NOT_NEEDED
        if login.is_staff:
            places = [("Platform staff, no organisation", "Django admin")]
        else:
            places = [(m.organisation, ", ".join(m.roles)) for m in login.memberships]
        if not places:
            places = [("no organisation", "-")]
        if not login.is_active:
            places = [(org, f"{roles} (account deactivated)") for org, roles in places]
        for n, (organisation, roles) in enumerate(places):
            first = n == 0
            rows.append(
                [login.username if first else "", organisation, roles, secret if first else ""]
            )
    return rows


def print_summary(
    summary: DemoSummary, password: DemoPassword, *, site_url: str, out: TextIO | None = None
) -> None:
    out = out or sys.stdout
    say = lambda text="": print(text, file=out)  # noqa: E731
    say()
    say("Accord demo: real public geography; synthetic people, care homes and figures.")
    say("Every page is marked as demo data.")
    if summary.already_loaded:
        kept = "The demo was already installed: all its data is kept."
        if summary.created:
            kept += f" Added what was missing: {'; '.join(summary.created)}."
        say(kept)
    else:
        say(
            f"Loaded the demo: {len(summary.organisations)} organisations and "
            f"{len(summary.personas)} personas."
        )
    say()
    _table(persona_rows(summary), out)
    say()
    say(f"Password for every persona: {password.value}")
    if password.source is PasswordSource.GIVEN:
        say(f"  (from {PASSWORD_ENV}; every persona's password has been set to it)")
        for warning in password.warnings:
            say(f"  Warning: this password is weak. {warning}")
    elif password.source is PasswordSource.GENERATED:
        say(f"  (generated, and kept in {password.path} for the next run;")
        say(f"  set {PASSWORD_ENV} to choose your own)")
        if summary.passwords_reset:
            say("  The earlier demo password was not found, so every persona now has this one.")
    else:
        say(f"  (kept from an earlier run, in {password.path};")
        say("  a persona whose password you changed in the demo keeps yours:")
        say(f"  set {PASSWORD_ENV} to give every persona the same one again)")
    say()
    say("Personas with a secret sign in with two factors: add the secret to an authenticator")
    say("app (type it in as a 'setup key', time-based), or print the current code with:")
    say("  accord demo code USERNAME")
    say(f"Platform staff can also use Django admin: {site_url}{_admin_path()}")
    say()
    say("Demo data is stored encrypted in the vault. Kent's 2025 Covid testing pilot is past its")
    say("retention deadline: the retention task deletes it when the demo is served (or run")
    say("`accord retention run --dry-run` first to see what would go), and Kent's DPO then finds")
    say(f"its certificate at {site_url}/organisation/deletions/")
    say()
    say("Data standards, their spreadsheet templates and a check-a-file form are at")
    say(f"{site_url}/standards/ (try the care home template, filled in badly); the same check")
    say("runs offline: `accord validate --standard care-home-daily-status FILE`.")
    say()
    say("From a data request to an agreement: sign in as the combined authority's analyst,")
    say(f"ask Kent for data at {site_url}/requests/, approve as Kent's DPO, draft, sign as both")
    say(f"DPOs; active agreements appear on {site_url}/register/.")
    say()
    say("Care home returns: sign in as a care home manager and send the day's status at")
    say(f"{site_url}/collections/; the combined authority's analyst sees who has sent what, who")
    say("is late, and the compiled dataset. `accord collections remind` sends the reminders.")
    say()
    say("Outputs returned: the combined authority's care home dashboard is made from the homes'")
    say("and councils' returns; sign in as analyst@gmca and open it from")
    say(f"{site_url}/outputs/. Send today's status as a care home manager and watch it move;")
    say("each contributor (analyst@kent, officer@medway, the homes) finds it on Returned to you")
    say(f"({site_url}/returned/), its own area highlighted, beside UKHSA's vaccination uptake.")
    say("From Shared with you, a district can also make its own table of Kent's housing benefit")
    say("claimants (its own area, counts protected by cell key perturbation).")
    say()
    say("Sharing in force: Kent shares its housing benefit collection with its districts, each")
    say("seeing only its own residents, pseudonymised. Sign in as analyst@midkent (Maidstone),")
    say(f"open Shared with you ({site_url}/shared/) and request an extract of Kent's housing")
    say(f"benefit claims; then, as dpo@kent, see it in Who used our data ({site_url}/usage/).")
    say("UKHSA publishes weekly Covid test results to every council: sign in as analyst@ukhsa")
    say(f"and open Releases ({site_url}/releases/) to see who has picked up each week's; any")
    say("council's analyst finds its own slice waiting under Shared with you.")
    say()
    say("Record linkage: as analyst@midkent (Maidstone), open Linkage")
    say(f"({site_url}/linkage/) and run the single view of vulnerability: Maidstone's council")
    say("tax linked with Kent's housing benefit, adult social care and free school meals and the")
    say("ICB's shielded patient list, one row per household. Review the borderline pairs, run it")
    say("again with your decisions; `accord link single-view --as EMAIL` does it from a terminal.")
    say()
    out.flush()


def _admin_path() -> str:
    try:
        return reverse("admin:index")
    except Exception:  # a broken URLconf fails loudly when serving; the listing still prints
        return "/admin/"
