"""ocsp's schema steps."""

from core.migrations import Migration, create_tables
from ocsp.models import OCSPResponse

MIGRATIONS = [
    Migration("ocsp", 1, "pre-signed responses", create_tables(OCSPResponse)),
]
