import pytest

from kpitools.errors import ParameterError
from kpitools.rules import Rules


def test_defaults_are_the_spec():
    rules = Rules()
    assert rules.dropout_limit == 0.20
    assert (rules.cofunding_rate_sme, rules.cofunding_rate_large) == (0.10, 0.30)
    assert rules.sme_employee_limit == 250
    assert rules.payment_tolerance == 1.0
    assert rules.outcome_window_months == 6
    assert rules.progression_target is None
    assert rules.referral_includes_withdrawn is True


def test_override_and_unknown_key():
    assert Rules.from_mapping({"dropout_limit": 0.25}).dropout_limit == 0.25
    with pytest.raises(ParameterError, match="unknown rule"):
        Rules.from_mapping({"dropout_limt": 0.25})


@pytest.mark.parametrize(
    "overrides",
    [{"dropout_limit": "20%"}, {"sme_employee_limit": 2.5}, {"referral_includes_withdrawn": "yes"},
     {"progression_target": 1.5}],
)
def test_wrong_types_fail(overrides):
    with pytest.raises(ParameterError):
        Rules.from_mapping(overrides)


def test_rules_are_frozen():
    with pytest.raises(AttributeError):
        Rules().dropout_limit = 0.3  # type: ignore[misc]
