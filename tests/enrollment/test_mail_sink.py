"""The local mail sink (``smtp.maildir``) that `make run` uses, read back with ``sekap-trust mail``;
honest counts of the mail job; the texts: tracking code, what to bring, Warsaw time, no gendered
verb forms, an e-mail when an application expires."""

from __future__ import annotations

import io
import mailbox
import re
from dataclasses import replace
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from config.cli import main
from config.runtime import Runtime
from enrollment import notifications
from enrollment.applications import ApplicationService
from enrollment.jobs import send_mail
from enrollment.models import Application, OutgoingEmail
from tests.enrollment.helpers import API, Parties, application_body, make_csr

# Past-tense 2nd person singular forms mark a gender in Polish ("otrzymałeś", "zostałaś").
GENDERED = re.compile(r"\b\w+ł(eś|aś)\b")


def _with_maildir(settings: Any, path: Path) -> Any:
    smtp = replace(settings.enrollment.smtp, maildir=str(path))
    return replace(settings, enrollment=replace(settings.enrollment, smtp=smtp))


def _submit(api: API, parties: Parties, **kwargs: Any) -> str:
    body = application_body(parties.point_id, **kwargs)
    r = api.call("POST", "/api/v1/applications", api.bearer(parties.portal_token), json=body)
    return str(r.json["reference"])


def _bodies(path: Path) -> list[Any]:
    box = mailbox.Maildir(path, create=False)
    return [message_from_bytes(box.get_bytes(k), policy=default_policy) for k in box.iterkeys()]


def test_application_e_mail_lands_in_the_maildir_with_what_to_bring(
    bare_api: API, parties: Parties, clock: Any, settings: Any, tmp_path: Path
) -> None:
    reference = _submit(bare_api, parties, key_generation="point")
    tracking = Application.get(Application.reference == reference).tracking_code
    maildir = tmp_path / "mail"
    result = send_mail(_with_maildir(settings, maildir).enrollment, clock)
    assert result.summary == "1 e-mail(s) sent, 0 failed, 0 waiting for a retry, 0 given up"
    assert result.counts == {"sent": 1, "failed": 0, "waiting": 0, "given_up": 0}
    [message] = _bodies(maildir)
    body = message.get_content()
    assert reference in message["Subject"]
    assert tracking in body
    assert "dowód osobisty lub paszport" in body and "pendrive" in body
    # The deadline in Polish local time, never UTC (the frozen clock is 09:00 UTC in January: 10:00 in Warsaw).
    expires = Application.get(Application.reference == reference).expires_at
    assert notifications.polish_time(expires) in body and "UTC" not in body
    assert notifications.polish_time(expires).endswith("10:00")


def test_csr_applications_need_no_pendrive(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    _submit(bare_api, parties, csr=make_csr()[0])
    body = OutgoingEmail.get().body
    assert "dowód osobisty lub paszport" in body and "pendrive" not in body


def test_texts_are_gender_neutral() -> None:
    for subject, body in notifications.TEMPLATES.values():
        assert not GENDERED.search(subject + " " + body), subject


def test_expired_application_gets_an_e_mail(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    reference = _submit(bare_api, parties)
    clock.advance(days=14)
    assert ApplicationService(settings.enrollment, clock).expire_due() == 1
    expired = OutgoingEmail.get(OutgoingEmail.kind == "application_expired")
    assert reference in expired.subject and "złóż nowy wniosek" in expired.body


def test_job_counts_what_is_left(bare_api: API, parties: Parties, clock: Any, settings: Any) -> None:
    """The job says what it could not send: nothing listens on port 1, the message waits for a retry."""
    _submit(bare_api, parties)
    broken = replace(settings.enrollment.smtp, host="127.0.0.1", port=1, timeout_seconds=2)
    summary = send_mail(replace(settings.enrollment, smtp=broken), clock).summary
    assert summary == "0 e-mail(s) sent, 1 failed, 1 waiting for a retry, 0 given up"
    once = replace(broken, max_attempts=1)
    clock.advance(minutes=1)
    assert send_mail(replace(settings.enrollment, smtp=once), clock).summary.endswith(
        "0 waiting for a retry, 1 given up"
    )


def test_mail_list_and_show(
    bare_api: API, parties: Parties, clock: Any, settings: Any, key_store: Any, tmp_path: Path
) -> None:
    reference = _submit(bare_api, parties)
    configured = _with_maildir(settings, tmp_path / "mail")
    send_mail(configured.enrollment, clock)
    runtime = Runtime(configured, clock, key_store)
    out = io.StringIO()
    assert main(["mail", "list"], out=out, runtime=runtime) == 0
    listing = out.getvalue()
    assert reference in listing and "1 e-mail(s)" in listing
    key = listing.split()[0]
    out = io.StringIO()
    assert main(["mail", "show", key], out=out, runtime=runtime) == 0
    assert "Subject: Przyjęliśmy Twój wniosek" in out.getvalue() and "Weź ze sobą" in out.getvalue()
    out = io.StringIO()
    assert main(["mail", "show", "nie-ma"], out=out, runtime=runtime) == 1


def test_mail_list_without_a_sink(db: Any, settings: Any, clock: Any, key_store: Any) -> None:
    out = io.StringIO()
    assert main(["mail", "list"], out=out, runtime=Runtime(settings, clock, key_store)) == 0
    assert "maildir is not set" in out.getvalue()
