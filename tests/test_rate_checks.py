"""A mistyped throttle rate is reported at start-up, not as a 500 on every request."""

from django.test import override_settings

from openhotline.core import checks


def test_rates_that_cannot_be_read_are_reported() -> None:
    assert checks.check_rates(None) == []
    with override_settings(STAFF_API_RATE="10000 an hour", REPORT_RATE="60/fortnight"):
        errors = checks.check_rates(None)
    assert [e.id for e in errors] == ["openhotline.E011", "openhotline.E011"]
    assert "OPENHOTLINE_REPORT_RATE" in errors[0].msg and "fortnight" in errors[0].msg
    assert "OPENHOTLINE_STAFF_API_RATE" in errors[1].msg
