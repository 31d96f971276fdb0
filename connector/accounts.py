"""The client's bank account, however a file writes it (pure).

A Norwegian bank writes the same account as an IBAN in one file and as the domestic number in another:
a camt file often as ``<IBAN>NO9386011117947</IBAN>``, a Nets OCR giro file always as the 11 digits
``86011117947``, the config as the accountant typed it (``8601.11.17947``). Compared as written, one
account became two: the same KID payment in OCR and camt was counted twice, and the OCR "account" went
stale while the camt files for it kept coming. Accounts are therefore compared by ``account_key``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from stdnum import iban

# Countries whose domestic account number is the whole BBAN of the IBAN, and their IBAN length:
# NO 11 digits; DK 4-digit reg. no. + 10-digit account. (A Swedish IBAN's BBAN is not the number
# Swedes write, so it stays as written.)
_IBAN_LENGTH = {"NO": 15, "DK": 18}
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


@lru_cache(maxsize=4096)  # a client has few accounts; this runs per payment
def account_key(value: str) -> str:
    """``value`` as accounts are compared: without spaces, dots or dashes, upper case, and a valid
    Norwegian or Danish IBAN as its domestic number (``NO93 8601 1117 947`` → ``86011117947``)."""
    plain = _NOT_ALNUM.sub("", value.upper())
    if len(plain) == _IBAN_LENGTH.get(plain[:2], 0) and plain[2:].isdigit() and iban.is_valid(plain):
        return plain[4:]
    return plain
