"""enrollment.queries: what the pages read from enrollment, as frozen views (the edge rule in
tests/test_boundaries.py keeps web away from ``enrollment.models``)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from core.auth import Principal
from enrollment.admin import Administration
from enrollment.queries import current_agreement, recent_activity
from tests.enrollment.helpers import API, Parties, application_body


def test_the_current_agreement_is_the_newest_version(parties: Parties, settings: Any, clock: Any) -> None:
    first = current_agreement()
    assert first is not None and first.version == parties.agreement_version
    Administration(settings.enrollment, clock).add_agreement("Umowa, wersja druga.", actor="test")
    newest = current_agreement()
    assert newest is not None and newest.version == first.version + 1 and newest.text == "Umowa, wersja druga."
    with pytest.raises(dataclasses.FrozenInstanceError):
        newest.version = 1  # type: ignore[misc]


def test_activity_is_scoped_to_the_officer_points(bare_api: API, parties: Parties) -> None:
    """An officer sees the audit records of their own points' applications; an auditor sees all."""
    own, other = parties.point_id, parties.other_point_id
    references = {}
    for point in (own, other):
        r = bare_api.call(
            "POST", "/api/v1/applications", bare_api.bearer(parties.portal_token), json=application_body(point)
        )
        references[point] = r.json["reference"]
    officer = Principal("officer", "1", roles=frozenset({"ra_officer"}), points=frozenset({own}))
    seen = recent_activity(officer)
    assert [(e.reference, e.action, e.outcome) for e in seen] == [
        (references[own], "enrollment.application.submit", "success")
    ]
    auditor = Principal("officer", "2", roles=frozenset({"auditor"}))
    assert {e.reference for e in recent_activity(auditor)} == set(references.values())
    assert len(recent_activity(auditor, limit=1)) == 1
