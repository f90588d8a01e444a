"""Requests for data: what a would-be recipient wants to know, from whom, and the answers.

A request is routed to the organisations that hold the data (``RequestHolder``); each answers
for itself, approving (which drafts an agreement) or declining with reasons. Everyone party to
the request sees its status and its discussion (``RequestComment``)."""

from __future__ import annotations

import uuid

from django.db import models

from accord.agreements.models import Agreement, Framework
from accord.organisations.models import Organisation


class DataRequest(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    question = models.TextField(help_text="The question the data would answer")
    reason = models.TextField(help_text="Why: the benefit, and the function it serves")
    standards = models.JSONField(default=list)  # slugs of published standards wanted
    data_description = models.TextField(blank=True)  # what is wanted, in words
    frequency = models.CharField(max_length=30)  # document.Frequency
    needed_by = models.DateField(null=True, blank=True)
    requester = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    requested_by = models.CharField(max_length=200)
    framework = models.ForeignKey(
        Framework, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=20, default="open")  # transitions.RequestStatus
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.title


class RequestHolder(models.Model):
    """An organisation a request was routed to, and its answer."""

    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="holders")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    answer = models.CharField(max_length=20, default="awaiting")  # transitions.Answer
    reasons = models.TextField(blank=True)
    answered_by = models.CharField(max_length=200, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    agreement = models.ForeignKey(
        Agreement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["request", "organisation"], name="request_holder_once")
        ]
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation_id} for {self.request_id}"


class RequestComment(models.Model):
    request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="comments")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    author = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"Comment {self.pk} on {self.request_id}"
