"""Structured payment references, in the python-stdnum style (``compact`` / ``is_valid`` per scheme).

- KID (NO): MOD10 (Luhn) or MOD11 whose check character may be ``-``; 3–25 characters. The creditor's
  OCR agreement fixes the scheme, so callers pass the schemes a client accepts.
- RF creditor reference (ISO 11649) via ``stdnum.iso11649``.
- FIK (DK) ``+71<15-digit id>+<creditor>`` / ``+75<16-digit id>+…``: the payment id ends in a Luhn digit;
  ``+73`` carries no id.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from stdnum import iso11649, luhn
from stdnum.iso7064 import mod_97_10

from connector.frozen import fast_init

KID_SCHEMES = ("mod10", "mod11")
_KID = re.compile(r"^[0-9]{2,24}[0-9-]$")
_FIK = re.compile(r"^\+?(7[135])[<]?([0-9]*)\+?([0-9]{8})?<?$")
_FIK_ID_LENGTH = {"71": 15, "75": 16}
# "KID: 1234567", "kid nr 1234567-", "KID-nummer 1234 5678" — a KID someone typed into the message.
_KID_IN_TEXT = re.compile(r"\bKID(?:[\s.-]*(?:nr|nummer|no))?[\s.:#-]*([0-9][0-9 ]{1,30}[0-9-])", re.IGNORECASE)


@fast_init
@dataclass(frozen=True, slots=True)
class Reference:
    scheme: str  # "mod10", "mod11", "rf", "fik71", "fik75"
    value: str  # normalised: the form invoices are indexed by


_SPACE_OR_DOT = re.compile(r"[\s.]")
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # Luhn: a digit doubled, digits summed


def compact(value: str) -> str:
    return value if value.isalnum() else _SPACE_OR_DOT.sub("", value)  # the usual KID has nothing to strip


# byte value of an ASCII digit → the digit, and → the digit doubled with its digits summed (Luhn)
_DIGIT = bytes(i - 48 if 48 <= i <= 57 else 0 for i in range(256))
_DIGIT_DOUBLED = bytes(_DOUBLED[i - 48] if 48 <= i <= 57 else 0 for i in range(256))


def luhn_valid(digits: str) -> bool:
    """MOD10 (Luhn) over a string of ASCII digits; same answer as ``stdnum.luhn.is_valid``, ~40x faster
    (it runs for every payment reference: byte slices translated and summed in C)."""
    b = digits.encode()
    return (sum(b[-1::-2].translate(_DIGIT)) + sum(b[-2::-2].translate(_DIGIT_DOUBLED))) % 10 == 0


def mod11_check(body: str) -> str:
    """The MOD11 check character for ``body``: weights 2..7 from the right; 10 → '-', 11 → '0'."""
    weights = (2, 3, 4, 5, 6, 7)
    total = sum(int(d) * weights[i % 6] for i, d in enumerate(reversed(body)))
    rest = 11 - total % 11
    return "0" if rest == 11 else "-" if rest == 10 else str(rest)


def kid_schemes(value: str) -> set[str]:
    """The KID schemes ``value`` passes (empty when it is not a KID at all)."""
    kid = compact(value)
    if not _KID.match(kid) or len(kid) < 3:
        return set()
    out = set()
    if kid[-1] != "-" and luhn_valid(kid):
        out.add("mod10")
    if mod11_check(kid[:-1]) == kid[-1]:
        out.add("mod11")
    return out


def is_valid_kid(value: str, schemes: Collection[str] = KID_SCHEMES) -> bool:
    """A KID passes one of the accepted schemes (default MOD10 or MOD11)."""
    return bool(kid_schemes(value) & set(schemes))


def kid_mod10(body: str) -> str:
    """Append a MOD10 check digit."""
    return body + luhn.calc_check_digit(body)


def kid_mod11(body: str) -> str:
    """Append a MOD11 check character (may be '-')."""
    return body + mod11_check(body)


def is_valid_rf(value: str) -> bool:
    return iso11649.is_valid(value)


def make_rf(reference: str) -> str:
    """RF + check digits + reference, e.g. a KID turned into an international creditor reference."""
    ref = compact(reference).upper()
    return "RF" + mod_97_10.calc_check_digits(ref + "RF") + ref


def parse_fik(value: str) -> tuple[str, str | None] | None:
    """``(card type, payment id)`` of a FIK/OCR line, or None. The id is None for +73 (no id)."""
    m = _FIK.match(compact(value))
    if m is None:
        return None
    card, ident = m.group(1), m.group(2)
    if card == "73":
        return card, None
    if len(ident) != _FIK_ID_LENGTH[card] or not luhn.is_valid(ident):
        return None
    return card, ident


def classify(value: str | None, kid_schemes_accepted: Collection[str] = KID_SCHEMES) -> Reference | None:
    """The valid reference in a ``CdtrRefInf/Ref`` (or an invoice's payment id), normalised; else None."""
    if not value:
        return None
    raw = compact(value)
    if raw.isdigit() and raw.isascii():  # the hot path: a plain KID (no RF/FIK prefix, no MOD11 '-')
        if not 3 <= len(raw) <= 25:
            return None
        if "mod10" in kid_schemes_accepted and luhn_valid(raw):
            return Reference("mod10", raw)
        if "mod11" in kid_schemes_accepted and mod11_check(raw[:-1]) == raw[-1]:
            return Reference("mod11", raw)
        return None
    upper = raw.upper()
    if upper.startswith("RF"):
        return Reference("rf", upper) if iso11649.is_valid(upper) else None
    if raw.startswith("+") or raw.endswith("<"):
        fik = parse_fik(raw)
        if fik is None or fik[1] is None:
            return None
        return Reference(f"fik{fik[0]}", fik[1])
    # The hot path of matching: check MOD10 first (preferred when both pass), MOD11 only if needed.
    if not _KID.match(raw):
        return None
    if "mod10" in kid_schemes_accepted and raw[-1] != "-" and luhn_valid(raw):
        return Reference("mod10", raw)
    if "mod11" in kid_schemes_accepted and mod11_check(raw[:-1]) == raw[-1]:
        return Reference("mod11", raw)
    return None


def normalise(value: str | None) -> str | None:
    """How an invoice's own payment reference is indexed: the same form ``classify`` returns."""
    if not value:
        return None
    if value.isdigit():  # a plain KID (the usual case) is its own normal form
        return value
    raw = compact(value)
    if raw.upper().startswith("RF"):
        return raw.upper()
    fik = parse_fik(raw) if (raw.startswith("+") or raw.endswith("<")) else None
    if fik is not None and fik[1] is not None:
        return fik[1]
    return raw


def kids_in_text(text: str) -> list[str]:
    """KIDs written into free text after the word 'KID' (spaces inside are removed)."""
    return [compact(m.group(1)) for m in _KID_IN_TEXT.finditer(text or "")]


def reference_name(value: str, country: str) -> str:
    """What the client's accountant calls an invoice's payment reference, for the command line: KID in Norway;
    in Denmark FIK (a +71/+73/+75 line), in Sweden OCR (the OCR number on the bankgiro); an RF creditor
    reference is RF there; anything else a payment reference."""
    if country == "NO":
        return "KID"
    raw = compact(value)
    if raw.upper().startswith("RF") and iso11649.is_valid(raw):
        return "RF"
    if country == "DK" and (raw.startswith("+") or raw.endswith("<")) and parse_fik(raw) is not None:
        return "FIK"
    if country == "SE" and raw.isdigit():
        return "OCR"
    return "payment reference"
