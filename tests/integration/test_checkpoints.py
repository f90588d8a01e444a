"""Signed audit checkpoints (signed-in people) and the public key (anyone)."""

from __future__ import annotations

import json

from django.test import Client

from accord.audit.actions import record
from accord.audit.actor import Actor
from accord.audit.checkpoints import create_checkpoint, load_checkpoint_document
from accord.audit.verification import verify_chain
from accord.organisations.enums import Role

from .helpers import (
    assert_not_found_page,
    assert_redirects_to_sign_in,
    person,
    signed_in_client,
    texts,
)

CHECKPOINTS = "/audit/checkpoints/"
PUBLIC_KEY = "/audit/public-key.pem"


def _checkpoint():
    for n in range(3):
        record(by=Actor.system("test"), action="test.thing.done", target=f"thing:{n}")
    return create_checkpoint(by=Actor.system("test"))


def test_signed_out_checkpoints_and_downloads_ask_to_sign_in(client: Client) -> None:
    checkpoint = _checkpoint()
    assert_redirects_to_sign_in(client.get(CHECKPOINTS), CHECKPOINTS)
    download = f"/audit/checkpoints/{checkpoint.pk}.json"
    assert_redirects_to_sign_in(client.get(download), download)


def test_the_public_key_needs_no_sign_in(client: Client) -> None:
    response = client.get(PUBLIC_KEY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert b"PRIVATE" not in response.content


def test_the_checkpoints_page_lists_signed_checkpoints(council) -> None:
    client = signed_in_client(person(council, Role.VIEWER))
    empty = client.get(CHECKPOINTS)
    assert empty.status_code == 200
    assert "No checkpoints have been signed yet" in texts(empty)

    checkpoint = _checkpoint()
    page = texts(client.get(CHECKPOINTS))
    assert checkpoint.head_hash in page
    assert f"/audit/checkpoints/{checkpoint.pk}.json" in page


def test_a_downloaded_checkpoint_verifies_against_the_downloaded_public_key(council) -> None:
    checkpoint = _checkpoint()
    client = signed_in_client(person(council, Role.ANALYST))
    response = client.get(f"/audit/checkpoints/{checkpoint.pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert f"accord-checkpoint-{checkpoint.seq}.json" in response["Content-Disposition"]
    document = load_checkpoint_document(response.content)
    assert document["seq"] == checkpoint.seq
    assert document["hash"] == checkpoint.head_hash

    public_key = Client().get(PUBLIC_KEY).content
    result = verify_chain(checkpoint=document, public_key_pem=public_key)
    assert result.ok, result.problems
    assert result.checkpoint_seq == checkpoint.seq

    # The same document with a changed fingerprint does not verify: the check can fail.
    forged = {**json.loads(response.content), "hash": "0" * 64}
    assert not verify_chain(checkpoint=forged, public_key_pem=public_key).ok


def test_an_unknown_checkpoint_is_404(council) -> None:
    client = signed_in_client(person(council, Role.VIEWER))
    assert_not_found_page(client.get("/audit/checkpoints/999999.json"))
