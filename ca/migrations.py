"""ca's schema steps."""

from ca.models import Authority, Certificate
from core.migrations import Migration, create_tables

MIGRATIONS = [
    Migration("ca", 1, "hierarchy and certificates", create_tables(Authority, Certificate)),
]
