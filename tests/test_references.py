from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.references import (
    classify,
    is_valid_kid,
    kid_mod10,
    kid_mod11,
    kid_schemes,
    kids_in_text,
    make_rf,
    normalise,
    parse_fik,
)


def test_kid_mod10_and_mod11():
    assert kid_schemes("1234567890128") == {"mod10"}
    assert kid_schemes("0000531") == {"mod11"}
    assert kid_mod11("12345") == "123455"
    dash = next(kid_mod11(str(n)) for n in range(1000, 2000) if kid_mod11(str(n)).endswith("-"))
    assert is_valid_kid(dash) and kid_schemes(dash) == {"mod11"}
    assert not is_valid_kid(dash, ["mod10"])
    assert not is_valid_kid("1234567890127") and not is_valid_kid("12") and not is_valid_kid("12a45")
    assert is_valid_kid(kid_mod10("4711")) and is_valid_kid("1234 5678 9012 8")


def test_rf():
    assert make_rf("000133700501645") == "RF36000133700501645"
    assert classify("RF18 5390 0754 7034").value == "RF18539007547034"
    assert classify("RF19539007547034") is None


def test_fik():
    assert parse_fik("+71<000000000000018+81234567<") == ("71", "000000000000018")
    assert parse_fik("+73<+81234567<") == ("73", None)
    assert parse_fik("+71<000000000000017+81234567<") is None
    assert classify("+75<0000000000000026+81234567<").value == "0000000000000026"
    assert normalise("+71<000000000000018+81234567<") == "000000000000018"


@pytest.mark.parametrize(
    ("text", "kids"),
    [
        ("Betaling KID: 1234567890128 takk", ["1234567890128"]),
        ("kid nr 1234 5678 9012 8", ["1234567890128"]),
        ("KID-nummer 123455-", ["123455-"]),
        ("Faktura 1005", []),
    ],
)
def test_kid_in_free_text(text, kids):
    assert kids_in_text(text) == kids


def test_classify_respects_accepted_schemes():
    assert classify("0000531", ["mod10"]) is None
    assert classify("0000531", ["mod11"]).scheme == "mod11"
    assert classify("") is None and classify("hello") is None


@settings(max_examples=500, derandomize=True)
@given(st.text(alphabet="0123456789", min_size=1, max_size=30))
def test_fast_luhn_agrees_with_stdnum(digits: str) -> None:
    from stdnum import luhn

    from connector.references import luhn_valid

    assert luhn_valid(digits) == luhn.is_valid(digits)


@settings(max_examples=500, derandomize=True)
@given(
    st.text(alphabet="0123456789", min_size=0, max_size=30),
    st.sampled_from([("mod10", "mod11"), ("mod10",), ("mod11",), ()]),
)
def test_classify_of_a_plain_kid_follows_the_accepted_schemes(digits: str, schemes: tuple[str, ...]) -> None:
    """MOD10 is preferred when both pass; only accepted schemes count; 3–25 digits."""
    from connector.references import classify, kid_schemes

    passing = kid_schemes(digits) if 3 <= len(digits) <= 25 else set()
    expected = next((s for s in ("mod10", "mod11") if s in schemes and s in passing), None)
    ref = classify(digits, schemes)
    assert (ref.scheme if ref else None) == expected
    assert ref is None or ref.value == digits


@settings(max_examples=300, derandomize=True)
@given(st.text(alphabet="0123456789abcXYZ -./æ٣", max_size=20))
def test_payer_accounts_and_org_ids_compare_as_before(value: str) -> None:
    """The fast paths give what the plain rules give: ASCII letters and digits, upper-cased; digits only."""
    import re

    from connector.reconcile.index import org_digits, plain_account

    assert plain_account(value) == re.sub(r"[^0-9A-Z]", "", value.upper())
    assert org_digits(value) == re.sub(r"\D", "", value)
