"""enrollment's schema steps."""

from core.migrations import Migration, create_tables
from enrollment.models import MODELS

MIGRATIONS = [
    Migration(
        "enrollment", 1, "points, officers, portal clients, applications, evidence, outbox", create_tables(*MODELS)
    ),
]
