"""Loading the synthetic demo: organisations with real names and area codes, synthetic people.

``load_demo`` is idempotent. It creates what is missing and keeps what is there, so a second
``make demo`` reuses the installed demo with everything testers did in it:

- organisations, personas, memberships and authenticators that exist are left alone (a role a
  tester removed stays removed; a persona a tester deactivated stays deactivated);
- a persona, membership or authenticator that is missing (new in this version of the demo, or
  deleted by a tester) is created again;
- passwords of existing personas are kept (a tester who changed one in the demo keeps it),
  unless ``reset_passwords`` is true. The CLI resets them when ACCORD_DEMO_PASSWORD is given,
  and when it had to generate a new password because the remembered one was lost, so that the
  password it prints always works.

Every write goes through the organisations' actions, or records its own audit event, with the
actor ``accord demo``. The demo refuses to run in production.

Organisations are real public bodies with their real ONS/NHS codes (from the bundled geography),
plus three care homes that do not exist. People, ICO registration numbers and (later) figures
are synthetic. NHS numbers, when later demo datasets need them, come from the 999 range only.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test.utils import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.organisations.actions import add_member, create_organisation
from accord.organisations.enums import Role, Sector
from accord.organisations.models import Membership, Organisation, User

from .collections import store_demo_collection
from .datasets import store_demo_datasets
from .frameworks import store_demo_framework
from .geography import geography
from .housing_benefit import store_demo_housing_benefit
from .optouts import store_demo_optouts
from .outcomes import store_demo_outcomes
from .outputs import store_demo_outputs
from .releases import store_demo_releases
from .totp import enrol, ensure_demo_mode, secret_base32, sign_in_device
from .vaccination import store_demo_vaccination
from .vulnerability_setup import store_demo_vulnerability

DEMO_ACTOR_LABEL = "accord demo"
# RFC 2606 reserves .test: these addresses can never reach a real mailbox.
DEMO_EMAIL_DOMAIN = "demo.accord.test"
PASSWORD_ENV = "ACCORD_DEMO_PASSWORD"  # noqa: S105 (the variable's name)
PASSWORD_FILE = "demo-password"  # noqa: S105 (a file name)
QUIET_EMAIL = "django.core.mail.backends.dummy.EmailBackend"


def demo_actor() -> Actor:
    return Actor.system(DEMO_ACTOR_LABEL)


class DemoConflict(RuntimeError):
    """Something real is in the way of the demo (e.g. a non-demo organisation of that name)."""


# Organisations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOrganisation:
    key: str  # short name used in persona addresses and by later demo datasets
    name: str
    sector: Sector
    area_code: str  # the ONS/NHS area it serves or (care homes) lies in, in the bundled geography
    gss_code: str = ""
    ods_code: str = ""
    # ICO registration numbers are SYNTHETIC: valid in format (Z + 7 characters) but not the
    # bodies' real registrations. The "ZX" prefix has not been issued by the ICO (it has reached
    # ZA/ZB), so these cannot be mistaken for a real controller's number.
    ico_registration: str = ""


# fmt: off
ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    # A two-tier county: the county council and three of its district councils.
    DemoOrganisation(
        "kent", "Kent County Council", Sector.COUNTY_COUNCIL, "E10000016",
        gss_code="E10000016", ico_registration="ZX100001",
    ),
    DemoOrganisation(
        "maidstone", "Maidstone Borough Council", Sector.DISTRICT_COUNCIL, "E07000110",
        gss_code="E07000110", ico_registration="ZX100002",
    ),
    DemoOrganisation(
        "canterbury", "Canterbury City Council", Sector.DISTRICT_COUNCIL, "E07000106",
        gss_code="E07000106", ico_registration="ZX100003",
    ),
    DemoOrganisation(
        "tunbridgewells", "Tunbridge Wells Borough Council", Sector.DISTRICT_COUNCIL,
        "E07000116", gss_code="E07000116", ico_registration="ZX100004",
    ),
    # A unitary authority, two London boroughs.
    DemoOrganisation(
        "medway", "Medway Council", Sector.UNITARY_AUTHORITY, "E06000035",
        gss_code="E06000035", ico_registration="ZX100005",
    ),
    DemoOrganisation(
        "hackney", "London Borough of Hackney", Sector.LONDON_BOROUGH, "E09000012",
        gss_code="E09000012", ico_registration="ZX100006",
    ),
    DemoOrganisation(
        "islington", "London Borough of Islington", Sector.LONDON_BOROUGH, "E09000019",
        gss_code="E09000019", ico_registration="ZX100007",
    ),
    # The NHS integrated care board covering Kent and Medway (ODS code QKS, see the sources note).
    DemoOrganisation(
        "kmicb", "NHS Kent and Medway Integrated Care Board", Sector.ICB, "E54000032",
        gss_code="E54000032", ods_code="QKS", ico_registration="ZX100008",
    ),
    # A combined authority and a national department (departments have no GSS area code).
    DemoOrganisation(
        "gmca", "Greater Manchester Combined Authority", Sector.COMBINED_AUTHORITY, "E47000001",
        gss_code="E47000001", ico_registration="ZX100009",
    ),
    DemoOrganisation(
        "mhclg", "Ministry of Housing, Communities and Local Government",
        Sector.CENTRAL_GOVERNMENT_DEPARTMENT, "E92000001", ico_registration="ZX100010",
    ),
    # A national body that publishes to every council at once (an executive agency of the
    # Department of Health and Social Care; no GSS area code).
    DemoOrganisation(
        "ukhsa", "UK Health Security Agency", Sector.EXECUTIVE_AGENCY, "E92000001",
        ico_registration="ZX100014",
    ),
    # Care homes that do not exist, in real districts. Named "(synthetic)" so nobody mistakes
    # them for a real home of the same name.
    DemoOrganisation(
        "oakleigh", "Oakleigh House Care Home (synthetic)", Sector.CARE_PROVIDER, "E07000110",
        ico_registration="ZX100011",
    ),
    DemoOrganisation(
        "kingfisher", "Kingfisher Court Care Home (synthetic)", Sector.CARE_PROVIDER,
        "E07000106", ico_registration="ZX100012",
    ),
    DemoOrganisation(
        "riverside", "Riverside View Care Home (synthetic)", Sector.CARE_PROVIDER, "E06000035",
        ico_registration="ZX100013",
    ),
)
# fmt: on

ORGANISATIONS_BY_KEY: Mapping[str, DemoOrganisation] = {o.key: o for o in ORGANISATIONS}


# Personas -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoPersona:
    username: str  # also the email address
    first_name: str
    last_name: str
    persona: str  # who this is, in DESIGN.md's terms
    memberships: tuple[tuple[str, tuple[Role, ...]], ...] = ()  # (organisation key, roles)
    is_staff: bool = False  # platform staff: Django admin, metadata only, no membership


def _address(local: str, organisation_key: str) -> str:
    return f"{local}@{organisation_key}.{DEMO_EMAIL_DOMAIN}"


# One persona for each role, with synthetic names. The shared-service analyst works for two
# councils (as Mid Kent Services staff do) so switching organisation can be shown.
# fmt: off
PERSONAS: tuple[DemoPersona, ...] = (
    DemoPersona(_address("officer", "maidstone"), "Priya", "Shah",
                "council data officer (district)", (("maidstone", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("admin", "maidstone"), "Gareth", "Owen",
                "organisation admin", (("maidstone", (Role.ORGANISATION_ADMIN,)),)),
    DemoPersona(_address("analyst", "midkent"), "Chloe", "Baker",
                "shared-service analyst (two councils)",
                (("maidstone", (Role.ANALYST,)), ("tunbridgewells", (Role.ANALYST,)))),
    DemoPersona(_address("analyst", "kent"), "Tom", "Hughes",
                "county analyst", (("kent", (Role.ANALYST,)),)),
    DemoPersona(_address("dpo", "kent"), "Fiona", "Campbell",
                "data protection officer", (("kent", (Role.DPO,)),)),
    DemoPersona(_address("designated", "canterbury"), "Rachel", "Green",
                "designated person", (("canterbury", (Role.DESIGNATED_PERSON,)),)),
    DemoPersona(_address("ceo", "tunbridgewells"), "David", "Okafor",
                "chief executive", (("tunbridgewells", (Role.CHIEF_EXECUTIVE,)),)),
    DemoPersona(_address("siro", "medway"), "Helen", "Walsh",
                "senior information risk owner", (("medway", (Role.SIRO,)),)),
    DemoPersona(_address("manager", "hackney"), "Marcus", "Bell",
                "senior manager", (("hackney", (Role.SENIOR_MANAGER,)),)),
    DemoPersona(_address("viewer", "hackney"), "Sam", "Ellis",
                "viewer (no personal data, no two-factor)", (("hackney", (Role.VIEWER,)),)),
    DemoPersona(_address("officer", "medway"), "Owen", "Clarke",
                "council data officer (adult social care)", (("medway", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("iao", "islington"), "Amira", "Haddad",
                "information asset owner", (("islington", (Role.INFORMATION_ASSET_OWNER,)),)),
    DemoPersona(_address("caldicott", "kmicb"), "Mark", "Ridley",
                "Caldicott Guardian", (("kmicb", (Role.CALDICOTT_GUARDIAN,)),)),
    DemoPersona(_address("manager", "oakleigh"), "Grace", "Mensah",
                "care home manager", (("oakleigh", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("manager", "kingfisher"), "Samuel", "Adeyemi",
                "care home manager", (("kingfisher", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("manager", "riverside"), "Lucy", "Fraser",
                "care home manager", (("riverside", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("data", "mhclg"), "Oliver", "Price",
                "national data team", (("mhclg", (Role.DATA_OFFICER,)),)),
    DemoPersona(_address("analyst", "ukhsa"), "Aisha", "Kamara",
                "national data team (publishes to every council)",
                (("ukhsa", (Role.DATA_OFFICER, Role.ANALYST)),)),
    DemoPersona(_address("analyst", "gmca"), "Jack", "Turner",
                "combined authority analyst", (("gmca", (Role.ANALYST,)),)),
    DemoPersona(_address("dpo", "gmca"), "Nadia", "Rahman",
                "combined authority DPO and SIRO", (("gmca", (Role.DPO, Role.SIRO)),)),
    DemoPersona(_address("staff", "platform"), "Alex", "Morgan",
                "platform operator (Django admin)", is_staff=True),
)
# fmt: on


# What a run returns ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonaMembership:
    organisation: str
    roles: tuple[str, ...]  # role labels, in the roles' order


@dataclass(frozen=True)
class PersonaLogin:
    username: str
    full_name: str
    persona: str
    memberships: tuple[PersonaMembership, ...]
    is_staff: bool
    is_active: bool
    totp_secret: str | None  # base32; None when the persona does not need two-factor sign-in

    @property
    def needs_two_factor(self) -> bool:
        return self.totp_secret is not None


@dataclass(frozen=True)
class DemoSummary:
    organisations: tuple[str, ...]
    personas: tuple[PersonaLogin, ...]
    created: tuple[str, ...]  # what this run added, e.g. "organisation Medway Council"
    passwords_reset: int  # existing personas whose password was set to the given one
    already_loaded: bool  # the demo was there before this run


# Loading --------------------------------------------------------------------------------------


def load_demo(*, password: str, reset_passwords: bool = False) -> DemoSummary:
    """Create whatever of the demo is missing and describe every persona's login.

    ``password`` is set on personas created now; existing personas keep theirs unless
    ``reset_passwords`` is true.
    """
    ensure_demo_mode()
    if not password:
        raise ValueError("The demo needs a password for its personas.")
    # Setting up sends notices (agreements signed, releases published, returns accepted) to the
    # demo's organisations: they are kept on the pages, but not emailed, which would only print
    # a few hundred messages to synthetic addresses before the logins.
    with override_settings(EMAIL_BACKEND=QUIET_EMAIL):
        return _load(password=password, reset_passwords=reset_passwords)


def _load(*, password: str, reset_passwords: bool) -> DemoSummary:
    created: list[str] = []
    already_loaded = Organisation.objects.filter(is_demo=True).exists()
    organisations = {spec.key: _organisation(spec, created) for spec in ORGANISATIONS}
    password_hash = make_password(password)  # hashed once: every persona shares the password
    reset = 0
    logins: list[PersonaLogin] = []
    for spec in PERSONAS:
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = _create_user(spec, password_hash)
            created.append(f"persona {spec.username}")
        elif reset_passwords:
            _reset_password(user, password_hash)
            reset += 1
        for key, roles in spec.memberships:
            organisation = organisations[key]
            if not Membership.objects.filter(user=user, organisation=organisation).exists():
                add_member(by=demo_actor(), organisation=organisation, user=user, roles=roles)
                created.append(f"membership {spec.username} at {organisation.name}")
        if user.requires_two_factor() and sign_in_device(user) is None:
            _enrol(user)
            created.append(f"authenticator for {spec.username}")
        logins.append(_login(spec, user))
    created.extend(store_demo_datasets(organisations))
    created.extend(store_demo_framework(organisations))
    created.extend(store_demo_collection(organisations))
    created.extend(store_demo_housing_benefit(organisations))
    created.extend(store_demo_releases(organisations))
    created.extend(store_demo_outcomes(organisations))
    created.extend(store_demo_outputs(organisations))
    created.extend(store_demo_vaccination(organisations))
    created.extend(store_demo_vulnerability(organisations))
    created.extend(store_demo_optouts(organisations))
    return DemoSummary(
        organisations=tuple(o.name for o in organisations.values()),
        personas=tuple(logins),
        created=tuple(created),
        passwords_reset=reset,
        already_loaded=already_loaded,
    )


def _organisation(spec: DemoOrganisation, created: list[str]) -> Organisation:
    existing = Organisation.objects.filter(name=spec.name).first()
    for field, value in (("gss_code", spec.gss_code), ("ods_code", spec.ods_code)):
        if existing is None and value:
            existing = Organisation.objects.filter(**{field: value}).first()
    if existing is not None:
        if not existing.is_demo:
            raise DemoConflict(
                f"{existing.name} ({existing.gss_code or existing.ods_code or 'no code'}) is "
                f"already here and is not demo data, so the demo will not use or change it. "
                "Load the demo into its own data folder (ACCORD_DATA_DIR) or database."
            )
        return existing
    organisation = create_organisation(
        by=demo_actor(),
        name=spec.name,
        sector=spec.sector,
        gss_code=spec.gss_code,
        ods_code=spec.ods_code,
        ico_registration=spec.ico_registration,
        is_demo=True,
    )
    created.append(f"organisation {spec.name}")
    return organisation


def _create_user(spec: DemoPersona, password_hash: str) -> User:
    user = User(
        username=spec.username,
        email=spec.username,
        first_name=spec.first_name,
        last_name=spec.last_name,
        is_staff=spec.is_staff,
        is_superuser=spec.is_staff,
        password=password_hash,
    )
    user.full_clean()
    with transaction.atomic():
        user.save()
        record(
            by=demo_actor(),
            action="account.created",
            target=f"user:{user.pk}",
            details={"email": user.email, "via": "demo", "platform_staff": spec.is_staff},
        )
    return user


def _reset_password(user: User, password_hash: str) -> None:
    with transaction.atomic():
        user.password = password_hash
        user.save(update_fields=["password"])
        record(
            by=demo_actor(),
            action="auth.password_reset",
            target=f"user:{user.pk}",
            details={"via": "demo", "reason": "every persona given the printed demo password"},
        )


def _enrol(user: User) -> TOTPDevice:
    with transaction.atomic():
        device = enrol(user)
        record(
            by=demo_actor(),
            action="auth.two_factor_enrolled",
            target=f"user:{user.pk}",
            details={"via": "demo", "device": device.name},
        )
    return device


def _login(spec: DemoPersona, user: User) -> PersonaLogin:
    memberships = (
        Membership.objects.filter(user=user, is_active=True, organisation__is_active=True)
        .select_related("organisation")
        .order_by("pk")
    )
    secret = None
    if user.requires_two_factor():
        device = sign_in_device(user)
        secret = secret_base32(device) if device is not None else None
    return PersonaLogin(
        username=user.username,
        full_name=user.get_full_name(),
        persona=spec.persona,
        memberships=tuple(
            PersonaMembership(m.organisation.name, tuple(m.role_labels)) for m in memberships
        ),
        is_staff=user.is_staff,
        is_active=user.is_active,
        totp_secret=secret,
    )


def check_geography() -> list[str]:
    """Problems with the organisations' area codes against the bundled geography (none
    expected: a test keeps it so)."""
    geo = geography()
    problems = []
    for spec in ORGANISATIONS:
        for code in filter(None, (spec.area_code, spec.gss_code)):
            if code not in geo:
                problems.append(f"{spec.name}: {code} is not in the bundled geography.")
    return problems


# The password ---------------------------------------------------------------------------------


class PasswordSource(StrEnum):
    GIVEN = "given"  # ACCORD_DEMO_PASSWORD
    REMEMBERED = "remembered"  # from an earlier run, in KEYS_DIR/demo-password
    GENERATED = "generated"  # made now, and remembered for the next run


@dataclass(frozen=True)
class DemoPassword:
    value: str
    source: PasswordSource
    path: Path
    warnings: tuple[str, ...] = ()

    @property
    def resets_existing(self) -> bool:
        """Whether existing personas must be given this password so that the printed one
        works: when it was given explicitly, or a new one had to be generated."""
        return self.source is not PasswordSource.REMEMBERED


# Letters and digits that are hard to confuse (no l/1, o/0, i), in four groups of four: about
# 79 bits, and easy to type from a terminal.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password() -> str:
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def password_path() -> Path:
    return Path(settings.KEYS_DIR) / PASSWORD_FILE


def resolve_password(environ: Mapping[str, str] | None = None) -> DemoPassword:
    """The personas' password: ACCORD_DEMO_PASSWORD if set, else the one remembered from an
    earlier run, else a new one. Whatever is used is remembered (owner-only file in the keys
    folder), so a later run without ACCORD_DEMO_PASSWORD prints the password that works."""
    ensure_demo_mode()
    environ = os.environ if environ is None else environ
    path = password_path()
    given = environ.get(PASSWORD_ENV, "")
    if given.strip():
        _remember(path, given)
        return DemoPassword(given, PasswordSource.GIVEN, path, _weaknesses(given))
    if path.exists():
        remembered = path.read_text(encoding="utf-8").rstrip("\n")
        if remembered.strip():
            return DemoPassword(remembered, PasswordSource.REMEMBERED, path)
    generated = generate_password()
    _remember(path, generated)
    return DemoPassword(generated, PasswordSource.GENERATED, path)


def _remember(path: Path, value: str) -> None:
    """Write ``value`` to ``path``, readable by its owner only, replacing any earlier one whole."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def _weaknesses(password: str) -> tuple[str, ...]:
    try:
        validate_password(password)
    except ValidationError as error:
        return tuple(error.messages)
    return ()
