"""Identifier formats of the portfolio: US National Drug Codes and ICD-10 codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# FDA NDC: 10 digits in three segments (4-4-2, 5-3-2 or 5-4-1), or the 11-digit HIPAA form (5-4-2).
_NDC_RE = re.compile(r"^(\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2}|\d{10,11})$")
# ICD-10 (WHO / -CM): a letter, two characters, then optionally a dot and up to four more.
_ICD10_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


def normalise_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_ndc(value: str) -> None:
    if value and not _NDC_RE.match(value):
        raise ValidationError(
            _("An NDC is 10 digits as 4-4-2, 5-3-2 or 5-4-1 (e.g. 12345-678-90), or 11 digits as 5-4-2."),
            code="ndc_format",
        )


def validate_icd10(value: str) -> None:
    if value and not _ICD10_RE.match(value):
        raise ValidationError(
            _("An ICD-10 code is a letter, two characters and an optional dot part, e.g. C34 or I50.22."),
            code="icd10_format",
        )
