"""The API serializers declare exactly the limits that validation enforces (one place: configuration.defaults)."""

from __future__ import annotations

import pytest
from rest_framework import serializers

from apps.configuration import validation
from apps.configuration.models import Settings
from apps.configuration.serializers import ConfigUpdateSerializer, SiteRatesSerializer

NUMBER_FIELDS = [
    name
    for name, field in ConfigUpdateSerializer().fields.items()
    if isinstance(field, serializers.IntegerField) and name in validation.VALIDATORS
]


def accepts(name: str, value: object) -> bool:
    try:
        validation.VALIDATORS[name](value, Settings())
    except validation.FieldInvalid:
        return False
    return True


def test_every_whole_number_setting_is_bounded_in_both_places():
    assert set(NUMBER_FIELDS) >= {"max_concurrent_downloads", "max_retries", "speed_limit_bytes"}
    for name in NUMBER_FIELDS:
        field = ConfigUpdateSerializer().fields[name]
        assert field.min_value is not None and field.max_value is not None, name


@pytest.mark.parametrize("name", NUMBER_FIELDS)
def test_serializer_bounds_are_validation_bounds(name):
    field = ConfigUpdateSerializer().fields[name]
    assert accepts(name, field.min_value) and accepts(name, field.max_value)
    assert not accepts(name, field.min_value - 1)
    assert not accepts(name, field.max_value + 1)


def test_request_rate_bounds_are_validation_bounds():
    field = SiteRatesSerializer().fields["aniworld"]
    for rate, accepted in [(field.min_value, True), (field.max_value, True), (field.max_value * 2, False)]:
        errors = []
        try:
            validation.VALIDATORS["request_rates"]({"aniworld": rate}, Settings())
        except validation.FieldInvalid as exc:
            errors.append(exc)
        assert (not errors) is accepted, rate
    with pytest.raises(validation.FieldInvalid):
        validation.VALIDATORS["request_rates"]({"aniworld": field.min_value / 2}, Settings())
