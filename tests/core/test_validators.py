"""NPI check digit (Luhn with the 80840 prefix) and CCN format."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from openkam.core.validators import npi_check_digit, npi_is_valid, validate_ccn, validate_npi

# Real NPIs from the NPPES registry responses in shared/data/external/nppes (public data).
REAL_NPIS = ["1234567893", "1003000126", "1245319599"]


@pytest.mark.parametrize("npi", REAL_NPIS)
def test_known_valid_npis(npi):
    assert npi_is_valid(npi)
    validate_npi(npi)


@pytest.mark.parametrize(
    "npi,code",
    [
        ("1234567890", "npi_check_digit"),
        ("123456789", "npi_format"),
        ("3234567893", "npi_format"),
        ("12345678a3", "npi_format"),
    ],
)
def test_invalid_npis_name_the_rule(npi, code):
    with pytest.raises(ValidationError) as exc:
        validate_npi(npi)
    assert exc.value.code == code


@given(st.from_regex(r"\A[12]\d{8}\Z"))
def test_every_nine_digit_stem_has_exactly_one_valid_check_digit(stem):
    valid = [d for d in range(10) if npi_is_valid(f"{stem}{d}")]
    assert valid == [npi_check_digit(stem)]


def test_ccn():
    validate_ccn("010001")
    with pytest.raises(ValidationError):
        validate_ccn("10001")
