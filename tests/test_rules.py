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
    [
        {"dropout_limit": "20%"},
        {"sme_employee_limit": 2.5},
        {"referral_includes_withdrawn": "yes"},
        {"progression_target": 1.5},
    ],
)
def test_wrong_types_fail(overrides):
    with pytest.raises(ParameterError):
        Rules.from_mapping(overrides)


def test_rules_are_frozen():
    with pytest.raises(AttributeError):
        Rules().dropout_limit = 0.3  # type: ignore[misc]


@pytest.mark.parametrize(
    "name",
    [
        "dropout_limit",
        "cofunding_rate_sme",
        "cofunding_rate_large",
        "amber_fraction",
        "progression_target",
    ],
)
def test_fractions_are_in_zero_to_one(name):
    # both sides of each boundary: 0 and above 1 refused, the smallest share and 1 accepted
    assert getattr(Rules.from_mapping({name: 1}), name) == 1.0
    assert getattr(Rules.from_mapping({name: 0.001}), name) == 0.001
    for bad in (0, 1.0001, 25, -0.2, float("nan"), float("inf"), "0.2", True):
        with pytest.raises(ParameterError) as caught:
            Rules.from_mapping({name: bad})
        message = caught.value.one_line()
        assert message.startswith(f"rule {name} must be a fraction in (0, 1]")
        assert "\n" not in message


def test_non_finite_amounts_are_refused():
    assert Rules.from_mapping({"payment_tolerance": 0}).payment_tolerance == 0.0
    for bad in (float("nan"), float("inf"), -1):
        with pytest.raises(ParameterError, match="payment_tolerance must be a finite number >= 0"):
            Rules.from_mapping({"payment_tolerance": bad})


def test_events_are_the_restatements_and_late_reports():
    from kpitools.rules import CATALOGUE

    events = {r.id for r in CATALOGUE.values() if r.event}
    assert events == {
        "DROP-LATE-REPORT",
        "REF-FORMAT-CHANGED",
        *(r for r in CATALOGUE if r.startswith("RESTATED-")),
    }
    assert len(events) == 9 and not CATALOGUE["DUP-ROW"].event
