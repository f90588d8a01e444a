"""Forms for the HTML pages, laid out in the GOV.UK Design System style."""

from __future__ import annotations

from typing import Any

from crispy_forms_gds.helper import FormHelper
from crispy_forms_gds.layout import Button, Field, Fluid, Layout, Size
from django import forms
from django.contrib.auth.forms import (
    AuthenticationForm,
    PasswordChangeForm,
    PasswordResetForm,
    SetPasswordForm,
)

from accord.audit.enums import Outcome
from accord.organisations.enums import Role


class GDSForm(forms.Form):
    submit_label = "Continue"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(*self.layout_fields(), Button("submit", self.submit_label))

    def layout_fields(self) -> list[Any]:
        return [Field.text(name) for name in self.fields]


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"autocomplete": "username", "spellcheck": "false"}),
        error_messages={"required": "Enter your email address"},
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Enter your password"},
    )
    error_messages = {
        "invalid_login": (
            "Enter a correct email address and password. After 5 wrong attempts your account "
            "is locked for 15 minutes."
        ),
        "inactive": "This account has been switched off. Ask your organisation admin.",
    }

    def clean_username(self) -> str:
        # Accounts are kept under lower-case email addresses; people type capitals.
        return str(self.cleaned_data["username"]).strip().lower()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.layout = Layout(
            Field.text("username", field_width=Fluid.TWO_THIRDS),
            Field.text("password", field_width=Fluid.TWO_THIRDS),
            Button("submit", "Sign in"),
        )


class CodeForm(GDSForm):
    submit_label = "Continue"
    code = forms.RegexField(
        label="Security code",
        help_text="The 6-digit code shown in your authenticator app",
        regex=r"^\s*\d{6}\s*$",
        error_messages={
            "required": "Enter the 6-digit security code",
            "invalid": "Enter the security code as 6 digits, like 123456",
        },
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )

    def layout_fields(self) -> list[Any]:
        return [Field.text("code", field_width=5)]


class OrganisationChoiceForm(GDSForm):
    submit_label = "Switch organisation"
    organisation = forms.ChoiceField(
        label="Which organisation are you acting for?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select an organisation"},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def layout_fields(self) -> list[Any]:
        return [Field.radios("organisation", legend_size=Size.MEDIUM)]


ROLE_HINTS = {
    Role.ORGANISATION_ADMIN: "Manages members and reads the organisation's audit log",
    Role.DATA_OFFICER: "Submits data and reads the feedback",
    Role.ANALYST: "Uses shared data the organisation is granted",
    Role.VIEWER: "Sees outputs and dashboards, no personal data",
    Role.DPO: "Advises on and signs agreements; sees every access",
}


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role.label) for role in Role]


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="Roles",
            choices=role_choices(),
            help_text="Select all that apply. Every role except viewer needs two-factor sign-in.",
            error_messages={"required": "Select at least one role"},
            **kwargs,
        )


class InviteForm(GDSForm):
    submit_label = "Send invitation"
    email = forms.EmailField(
        label="Email address",
        error_messages={
            "required": "Enter the email address of the person to invite",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    roles = RolesField()

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("email", field_width=Fluid.TWO_THIRDS),
            Field.checkboxes("roles", legend_size=Size.MEDIUM, small=True),
        ]


class RolesForm(GDSForm):
    submit_label = "Save roles"
    roles = RolesField()

    def layout_fields(self) -> list[Any]:
        return [Field.checkboxes("roles", legend_size=Size.MEDIUM, small=True)]


class NewAccountForm(GDSForm):
    submit_label = "Create account and join"
    first_name = forms.CharField(
        label="First name", max_length=150, error_messages={"required": "Enter your first name"}
    )
    last_name = forms.CharField(
        label="Last name", max_length=150, error_messages={"required": "Enter your last name"}
    )
    password = forms.CharField(
        label="Create a password",
        help_text="At least 12 characters. A few unrelated words make a strong password.",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter a password"},
    )
    password_again = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Enter the password again"},
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("first_name", field_width=Fluid.ONE_HALF),
            Field.text("last_name", field_width=Fluid.ONE_HALF),
            Field.text("password", field_width=Fluid.TWO_THIRDS),
            Field.text("password_again", field_width=Fluid.TWO_THIRDS),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The passwords do not match")
        return data


# Day first, as people in the UK write dates; ISO 8601 too.
UK_DATE_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d %m %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d"]


class AuditFilterForm(GDSForm):
    submit_label = "Filter events"
    action = forms.CharField(label="Action", required=False, help_text="For example, signed_in")
    person = forms.CharField(label="Person", required=False, help_text="Part of an email address")
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Any outcome"), *Outcome.choices]
    )
    since = forms.DateField(
        label="From date",
        required=False,
        help_text="For example, 1/11/2026",
        input_formats=UK_DATE_FORMATS,
        error_messages={"invalid": "Enter the from date as a real date, like 1/11/2026"},
    )
    until = forms.DateField(
        label="To date",
        required=False,
        help_text="For example, 30/11/2026",
        input_formats=UK_DATE_FORMATS,
        error_messages={"invalid": "Enter the to date as a real date, like 30/11/2026"},
    )

    def layout_fields(self) -> list[Any]:
        return [
            Field.text("action", field_width=Fluid.ONE_HALF),
            Field.text("person", field_width=Fluid.ONE_HALF),
            Field.select("outcome"),
            Field.text("since", field_width=10),
            Field.text("until", field_width=10),
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The to date must be the same as or after the from date")
        return data


def _helper(*fields: Any, submit: str) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.layout = Layout(
        *[Field.text(name, field_width=Fluid.TWO_THIRDS) for name in fields],
        Button("submit", submit),
    )
    return helper


class ResetRequestForm(PasswordResetForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email address"
        self.fields["email"].error_messages = {
            "required": "Enter your email address",
            "invalid": "Enter an email address in the correct format, like name@example.gov.uk",
        }
        self.helper = _helper("email", submit="Send reset link")


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "new_password1"
        ].help_text = "At least 12 characters. A few unrelated words make a strong password."
        self.helper = _helper("new_password1", "new_password2", submit="Save password")


class ChangePasswordForm(PasswordChangeForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "new_password1"
        ].help_text = "At least 12 characters. A few unrelated words make a strong password."
        self.helper = _helper(
            "old_password", "new_password1", "new_password2", submit="Change password"
        )


class AttestDeletionForm(GDSForm):
    submit_label = "Confirm the copies are deleted"

    statement = forms.CharField(
        label="How were the copies deleted?",
        help_text="For example: the file was deleted from the shared drive and the recycle bin "
        "emptied; the printed copy was shredded.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Say how the copies were deleted"},
    )
    confirm = forms.BooleanField(
        label="I confirm that every copy my organisation held, including backups and printouts, "
        "has been deleted",
        error_messages={"required": "Confirm that every copy has been deleted"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field.textarea("statement"), Field("confirm")]


class CheckFileForm(GDSForm):
    submit_label = "Check file"

    file = forms.FileField(
        label="Upload a file",
        help_text="A CSV, XLSX or ODS file. Accord checks it and keeps nothing.",
        error_messages={"required": "Choose the file to check"},
    )
    result = forms.ChoiceField(
        label="What do you want back?",
        choices=[
            ("page", "A report on this page"),
            ("csv", "Every problem as a CSV file"),
            ("xlsx", "Your file with the problems highlighted (XLSX)"),
        ],
        initial="page",
        required=False,  # a report on the page unless asked otherwise
    )

    def layout_fields(self) -> list[Any]:
        return [Field("file"), Field.radios("result", legend_size=Size.SMALL)]

    def clean_result(self) -> str:
        return self.cleaned_data.get("result") or "page"


class PublishStandardForm(GDSForm):
    submit_label = "Publish"
    MAX_BYTES = 2 * 1024 * 1024

    schema = forms.FileField(
        label="Standard's schema (JSON)",
        help_text=(
            "A Frictionless Table Schema with Accord's extra properties, as the JSON download "
            "on any standard's page. Give a new version a higher version number."
        ),
        error_messages={"required": "Choose the schema file to publish"},
    )

    def layout_fields(self) -> list[Any]:
        return [Field("schema")]

    def clean_schema(self) -> dict[str, Any]:
        import json

        raw = self.cleaned_data["schema"].read(self.MAX_BYTES + 1)
        if len(raw) > self.MAX_BYTES:
            raise forms.ValidationError("The file is over 2 MB; a standard's schema is smaller.")
        try:
            data = json.loads(raw.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise forms.ValidationError(f"The file is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise forms.ValidationError(
                "The schema must be a JSON object with 'name', 'version' and 'fields'."
            )
        return data
