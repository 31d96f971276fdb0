"""Amounts from outside, checked where they enter (camt, OCR, EHF/UBL/CII readers).

A value that is not finite, absurdly large, or finer than the currency's minor unit is refused, never
rounded: ``499.99999`` NOK rounded to øre would settle a 500.00 invoice, and ``1E+30`` stored as text
broke every later read of the client. Trailing zeros are fine (``8.850`` EUR is 8.85 exactly).
Pure: no configuration is read here; readers pass the client's ``[limits] max_amount``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Far above any invoice or payment of a Nordic SME and far below what the store holds exactly
# (PostgreSQL Numeric(20, 4): under 10^16): 10^10 in the currency's units, 10^12 in øre/cents.
# The default of [limits] max_amount.
DEFAULT_MAX_AMOUNT = Decimal("10000000000")

# ISO 4217 minor units other than 2 (every other code has 2). The store keeps two decimals, so a
# three-decimal currency is also checked at two: a third decimal would be rounded away.
ZERO_DECIMALS = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
STORE_DECIMALS = 2

# The ISO 4217 currency codes (list one, 2025 edition, with ANG and BGN, which are being withdrawn): a
# client's home currency must be one. Fund codes, precious metals, SDR and the test codes (XXX, XTS) are
# left out: no company keeps its books in them.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
    CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
    GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
    LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
    NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP
    STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD
    XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENCIES = frozenset(_ISO_4217.split())
_QUANTUM = {places: Decimal(1).scaleb(-places) for places in (0, STORE_DECIMALS)}  # made once, not per amount

__all__ = ["CURRENCIES", "DEFAULT_MAX_AMOUNT", "amount_problem", "decimals_of", "parse_amount"]


def decimals_of(currency: str | None) -> int:
    """How many decimals an amount in ``currency`` may carry here (its minor unit, at most the store's)."""
    return 0 if currency and currency.upper() in ZERO_DECIMALS else STORE_DECIMALS


def amount_problem(value: Decimal, currency: str | None, max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> str | None:
    """What is wrong with ``value`` as an amount in ``currency``, or None when it may be used as it is."""
    if not value.is_finite():
        return "is not a finite number"
    if abs(value) > max_amount:
        return f"is larger than the limit of {max_amount:f} ([limits] max_amount)"
    places = decimals_of(currency)
    try:
        exact = value == value.quantize(_QUANTUM[places])
    except InvalidOperation:  # more digits than the context carries: far beyond any limit anyway
        exact = False
    if not exact:
        unit = "no decimals" if places == 0 else f"at most {places} decimals"
        return f"has more decimals than {currency or 'the currency'} has ({unit}); it would be rounded"
    return None


def parse_amount(text: str | None, currency: str | None, max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> Decimal:
    """``text`` as an amount, or ValueError saying what is wrong (the caller names file and field)."""
    if text is None:
        raise ValueError("is missing")
    try:
        value = Decimal("".join(text.split()))
    except InvalidOperation:
        raise ValueError(f"'{text[:40]}' is not a number") from None
    problem = amount_problem(value, currency, max_amount)
    if problem:
        raise ValueError(f"'{text[:40]}' {problem}")
    return value
