"""Plain-English names for audit actions, for pages and downloads. Codes stay in the log."""

ACTION_LABELS = {
    "access.decided": "Access to shared data decided",
    "account.created": "Account created",
    "agreement.active": "Agreement in force",
    "agreement.approved": "Agreement approved (every required signature in)",
    "agreement.draft": "Agreement returned to draft for changes",
    "agreement.draft_saved": "Draft agreement saved",
    "agreement.drafted": "Agreement drafted",
    "agreement.expired": "Agreement expired",
    "agreement.in_review": "Agreement sent to the parties for review and signature",
    "agreement.review_reminded": "Parties reminded that the agreement's review is due or overdue",
    "agreement.signed": "Agreement signed",
    "agreement.superseded": "Agreement superseded by a newer version",
    "agreement.suspended": "Agreement suspended (no sharing until resumed)",
    "agreement.terminated": "Agreement ended early",
    "framework.created": "Framework set up",
    "framework.member_added": "Organisation joined a framework",
    "data_request.posted": "Data request posted",
    "data_request.commented": "Comment on a data request",
    "data_request.approved": "Data request approved (agreement drafted)",
    "data_request.declined": "Data request declined",
    "data_request.withdrawn": "Data request withdrawn",
    "api.request_refused": "API request refused (role not held)",
    "api.token_refused": "API token refused (revoked, expired or membership ended)",
    "audit.checkpoint.created": "Audit checkpoint signed",
    "audit.events.downloaded": "Audit log downloaded",
    "auth.locked_out": "Account locked after failed sign-ins",
    "auth.password_changed": "Password changed",
    "auth.password_reset": "Password reset",
    "auth.password_reset_requested": "Password reset requested",
    "auth.second_factor_failed": "Wrong security code entered",
    "auth.second_factor_passed": "Security code accepted",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "auth.two_factor_enrolled": "Authenticator app set up",
    "organisation.api_token.created": "API token created",
    "organisation.api_token.revoked": "API token revoked",
    "organisation.created": "Organisation created",
    "organisation.invitation.accepted": "Invitation accepted",
    "organisation.invitation.revoked": "Invitation withdrawn",
    "organisation.invitation.sent": "Invitation sent",
    "organisation.member.added": "Member added",
    "organisation.member.removed": "Member removed",
    "organisation.member.roles_changed": "Member's roles changed",
    "organisation.switched": "Switched organisation",
    "notification.sent": "Notice sent to an organisation",
    "standard.file_checked": "File checked against a data standard (nothing kept)",
    "standard.published": "Data standard published",
    "vault.certificate.downloaded": "Deletion certificate downloaded",
    "vault.backup.created": "Backup taken (database and encrypted data, no keys)",
    "vault.backup.restored": "Backup restored",
    "vault.copy.released": "Copy of data released outside Accord (to be deleted by a deadline)",
    "vault.copy.deletion_attested": "Recipient attested deletion of its copy",
    "vault.master_key.rotated": "Vault master key rotated (data keys re-wrapped)",
    "vault.object.legal_hold_placed": "Legal hold placed on stored data (deletion blocked)",
    "vault.object.legal_hold_released": "Legal hold on stored data released",
    "vault.object.found_shredded": (
        "Stored data found deleted on restore (its key was destroyed after the backup)"
    ),
    "vault.object.shredded": "Stored data deleted (key destroyed)",
    "vault.object.stored": "Data stored in the vault",
    "vault.orphans.swept": "Leftovers of interrupted vault writes removed",
    "web.page_refused": "Page refused",
    "admin.user.password_set": "Platform staff set a password in admin",
}


def action_label(code: str) -> str:
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    if code.startswith("admin."):
        _, model, verb = [*code.split("."), "", ""][:3]
        return f"Platform staff {verb} {model} in admin".strip()
    return code
