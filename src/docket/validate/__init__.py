"""Check records against the SHACL shapes before they are published, and report why one is held back.

``Validator`` runs pySHACL (the reference engine) per record, in parallel; ``ValidationReport`` gathers
results and reader warnings and writes them as a ``sh:ValidationReport`` graph and as JSON.
"""

from docket.validate.engine import Engine
from docket.validate.report import (
    EXIT_CONFORMS,
    EXIT_DOES_NOT_CONFORM,
    EXIT_ERROR,
    INFO,
    VIOLATION,
    WARNING,
    Finding,
    RecordResult,
    ValidationReport,
)
from docket.validate.shapes import ShapeSource, ShapesError
from docket.validate.validator import Validator

__all__ = [
    "EXIT_CONFORMS",
    "EXIT_DOES_NOT_CONFORM",
    "EXIT_ERROR",
    "INFO",
    "VIOLATION",
    "WARNING",
    "Engine",
    "Finding",
    "RecordResult",
    "ShapeSource",
    "ShapesError",
    "ValidationReport",
    "Validator",
]
