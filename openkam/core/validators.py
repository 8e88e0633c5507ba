"""Identifier validators shared by every app."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_NPI_RE = re.compile(r"^\d{10}$")
_CCN_RE = re.compile(r"^[0-9A-Z]{6}$")


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit of an NPI, computed with the 80840 card-issuer prefix (CMS rule)."""
    digits = [int(d) for d in "80840" + first_nine]
    total = 0
    for i, d in enumerate(reversed(digits)):  # the check digit's position is the rightmost: double every 2nd
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return (10 - total % 10) % 10


def npi_is_valid(value: str) -> bool:
    return bool(_NPI_RE.match(value or "")) and value[0] in "12" and npi_check_digit(value[:9]) == int(value[9])


def validate_npi(value: str) -> None:
    if not value:
        return
    if not _NPI_RE.match(value):
        raise ValidationError(_("An NPI has exactly 10 digits."), code="npi_format")
    if value[0] not in "12":
        raise ValidationError(_("An NPI starts with 1 (individual) or 2 (organisation)."), code="npi_format")
    if npi_check_digit(value[:9]) != int(value[9]):
        raise ValidationError(
            _("This NPI's check digit is wrong (Luhn with the 80840 prefix): check for a typo."), code="npi_check_digit"
        )


def validate_ccn(value: str) -> None:
    if value and not _CCN_RE.match(value):
        raise ValidationError(_("A CMS Certification Number has 6 letters or digits, e.g. 010001."), code="ccn_format")
