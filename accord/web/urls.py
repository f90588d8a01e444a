from django.urls import path

from .views import (
    agreement_exports,
    agreements,
    api_tokens,
    audit,
    auth,
    breaches,
    care_home_status,
    collections,
    data_requests,
    home,
    invitation,
    linkage,
    notifications,
    optouts,
    organisation,
    outcomes,
    outputs,
    register,
    rights,
    sharing,
    standards,
    tasks,
    usage,
    vault,
)

app_name = "web"
urlpatterns = [
    path("", home.home, name="home"),
    # Signing in and out
    path("sign-in/", auth.sign_in, name="sign_in"),
    path("sign-in/code/", auth.sign_in_code, name="sign_in_code"),
    path("sign-in/authenticator/", auth.two_factor_setup, name="two_factor_setup"),
    path("sign-out/", auth.sign_out, name="sign_out"),
    path("password-reset/", auth.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth.TemplatePage.as_view(template_name="web/account/password_reset_sent.html"),
        name="password_reset_sent",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth.TemplatePage.as_view(template_name="web/account/password_reset_done.html"),
        name="password_reset_done",
    ),
    path("account/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    # Organisations
    path("organisation/switch/", organisation.switch_organisation, name="switch_organisation"),
    path("organisation/members/", organisation.members, name="members"),
    path("organisation/members/invite/", organisation.invite, name="invite"),
    path("organisation/members/<int:membership_id>/", organisation.member, name="member"),
    path(
        "organisation/members/<int:membership_id>/remove/",
        organisation.remove_member,
        name="remove_member",
    ),
    path(
        "organisation/invitations/<int:invitation_id>/withdraw/",
        organisation.revoke_invitation,
        name="revoke_invitation",
    ),
    path("invitations/<str:token>/", invitation.invitation, name="invitation"),
    # Audit
    path("organisation/audit/", audit.events, name="audit_events"),
    path("audit/checkpoints/", audit.checkpoints, name="checkpoints"),
    path(
        "audit/checkpoints/<int:checkpoint_id>.json",
        audit.checkpoint_download,
        name="checkpoint_download",
    ),
    path("audit/public-key.pem", audit.public_key, name="public_key"),
    # The public register of agreements in force (no sign-in)
    path("register/", register.register, name="register"),
    path("register.json", register.register_json, name="register_json"),
    # Data standards
    path("standards/", standards.standards, name="standards"),
    path("standards/publish/", standards.publish, name="publish_standard"),
    path("standards/<slug:slug>/", standards.standard, name="standard"),
    path("standards/<slug:slug>/check/", standards.check_file, name="check_file"),
    path(
        "standards/<slug:slug>/<str:version>/",
        standards.standard,
        name="standard_version",
    ),
    path(
        "standards/<slug:slug>/<str:version>/download.<str:fmt>",
        standards.template_download,
        name="standard_download",
    ),
    # Deletion certificates and notices
    path("organisation/deletions/", vault.certificates, name="deletion_certificates"),
    path(
        "organisation/deletions/<uuid:object_id>/",
        vault.certificate,
        name="deletion_certificate",
    ),
    path(
        "organisation/deletions/<uuid:object_id>.json",
        vault.certificate_download,
        name="deletion_certificate_download",
    ),
    path("organisation/copies/", vault.copies, name="copies"),
    path("organisation/copies/<int:copy_id>/attest/", vault.attest, name="attest_copy_deletion"),
    path("organisation/notices/", notifications.notices, name="notices"),
    # Agreement documents: printable, JSON, JSON-LD, schema, differences, import
    *agreement_exports.urlpatterns,
    # Agreements and frameworks: drafting, signing, lifecycle
    *agreements.urlpatterns,
    # Collections and submissions
    *collections.urlpatterns,
    # A care home's daily status on one form, sent as a return
    path(
        "collections/<uuid:collection_id>/status/",
        care_home_status.status_form,
        name="collection_status_form",
    ),
    # Data requests
    *data_requests.urlpatterns,
    # Data shared with the organisation: extracts and releases
    *sharing.urlpatterns,
    *api_tokens.urlpatterns,
    # Progress of background work, polled by the progress indicator
    *tasks.urlpatterns,
    # Outputs: dashboards, returned to contributors, downloads
    *outputs.urlpatterns,
    # Who used our data, our access history, and the audit bundle to verify offline
    *usage.urlpatterns,
    # Outcomes recipients report back under their agreements
    *outcomes.urlpatterns,
    # Record linkage: jobs, quality reports, clerical review, the single view of vulnerability
    *linkage.urlpatterns,
    *optouts.urlpatterns,
    # Suspected personal data breaches: clocks, steps, one-click suspension
    *breaches.urlpatterns,
    # Data subjects' rights: subject access
    *rights.urlpatterns,
]
