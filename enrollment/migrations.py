"""enrollment's schema steps."""

from core.migrations import Migration, create_tables
from enrollment.models import MODELS
from enrollment.totp import MODELS as TOTP_MODELS

MIGRATIONS = [
    Migration(
        "enrollment", 1, "points, officers, portal clients, applications, evidence, outbox", create_tables(*MODELS)
    ),
    Migration("enrollment", 2, "officers' TOTP second factor", create_tables(*TOTP_MODELS)),
]
