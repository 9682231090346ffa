"""The views are the answers' shapes and the served OpenAPI document describes them: the same
field names, one for one (a field added on one side only fails here)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from enrollment import views
from enrollment.openapi import schemas

PAIRS = [
    (views.SessionView, "Session"),
    (views.AgreementView, "Agreement"),
    (views.AgreementAddedView, "AgreementVersion"),
    (views.SubmittedView, "ApplicationCreated"),
    (views.ApplicationStateView, "ApplicationStatus"),
    (views.IssuedView, "IssueResult"),
    (views.CertificateStatusView, "CertificateStatus"),
    (views.RenewedView, "RenewalResult"),
    (views.IdentityCheckView, "IdentityCheckResult"),
    (views.ApprovalView, "ApprovalResult"),
    (views.ApplicationView, "ApplicationView"),
]


def properties(schema: dict[str, Any]) -> set[str]:
    return set(schema.get("properties", {}))


@pytest.mark.parametrize(("view", "name"), PAIRS, ids=[name for _, name in PAIRS])
def test_view_and_schema_name_the_same_fields(view: type, name: str) -> None:
    assert {f.name for f in dataclasses.fields(view)} == properties(schemas()[name])


def test_points_list_items_are_point_views() -> None:
    items = schemas()["PointList"]["properties"]["points"]["items"]
    assert {f.name for f in dataclasses.fields(views.PointView)} == properties(items)


def test_certificate_references_of_an_application() -> None:
    items = schemas()["ApplicationView"]["properties"]["certificates"]["items"]
    assert {f.name for f in dataclasses.fields(views.CertificateRefView)} == properties(items)


def test_to_json_writes_times_in_iso_8601_with_offset() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    encoded = views.to_json(views.ApplicationStateView("SK-1", "submitted", at))
    assert encoded == {"reference": "SK-1", "state": "submitted", "expires_at": "2026-01-02T03:04:05+00:00"}
