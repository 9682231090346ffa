"""ocsp's schema steps."""

from core.migrations import Migration, create_tables
from ocsp.ledger import OCSPSignatureCount
from ocsp.models import OCSPResponse

MIGRATIONS = [
    Migration("ocsp", 1, "pre-signed responses", create_tables(OCSPResponse)),
    Migration("ocsp", 2, "live signature counts per signer per minute", create_tables(OCSPSignatureCount)),
]
