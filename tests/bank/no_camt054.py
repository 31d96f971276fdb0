"""Norwegian-shaped camt.054.001.02 credit notifications, written from the bank MIGs' shape.

KID in ``CdtrRefInf/Ref`` typed SCOR, BBAN accounts (``Othr/Id`` + ``SchmeNm/Cd`` BBAN), batch entries
with several TxDtls, returns, pending entries; the caller picks the encoding and a BOM.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
ACCOUNT = "15030012345"  # creditor BBAN


@dataclass
class Tx:
    amount: str
    kid: str | None = None
    text: str | None = None
    payer: str | None = None
    payer_account: str | None = None
    payer_org: str | None = None
    ref: str | None = None
    return_reason: str | None = None


@dataclass
class Entry:
    ref: str
    booked: str = "2024-03-04"
    value: str = "2024-03-01"
    status: str = "BOOK"
    direction: str = "CRDT"
    reversal: bool = False
    txs: list[Tx] = field(default_factory=list)
    amount: str | None = None  # defaults to the sum of the transactions


def _tx(t: Tx) -> str:
    parts = ["<TxDtls><Refs>"]
    parts.append(f"<AcctSvcrRef>{t.ref}</AcctSvcrRef>" if t.ref else "")
    parts.append("<EndToEndId>NOTPROVIDED</EndToEndId></Refs>")
    parts.append(f'<AmtDtls><TxAmt><Amt Ccy="NOK">{t.amount}</Amt></TxAmt></AmtDtls>')
    if t.payer or t.payer_account:
        parts.append("<RltdPties>")
        if t.payer:
            org = f"<Id><OrgId><Othr><Id>{t.payer_org}</Id></Othr></OrgId></Id>" if t.payer_org else ""
            parts.append(f"<Dbtr><Nm>{escape(t.payer)}</Nm>{org}</Dbtr>")
        if t.payer_account:
            parts.append(
                f"<DbtrAcct><Id><Othr><Id>{t.payer_account}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id></DbtrAcct>"
            )
        parts.append("</RltdPties>")
    if t.kid or t.text:
        parts.append("<RmtInf>")
        if t.text:
            parts.append(f"<Ustrd>{escape(t.text)}</Ustrd>")
        if t.kid:
            parts.append(
                f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{t.kid}</Ref></CdtrRefInf></Strd>"
            )
        parts.append("</RmtInf>")
    if t.return_reason:
        parts.append(f"<RtrInf><Rsn><Cd>{t.return_reason}</Cd></Rsn><AddtlInf>Tilbakeført</AddtlInf></RtrInf>")
    parts.append("</TxDtls>")
    return "".join(parts)


def _entry(e: Entry) -> str:
    amount = e.amount or str(sum((Decimal(t.amount) for t in e.txs), Decimal("0.00")))
    rvsl = "<RvslInd>true</RvslInd>" if e.reversal else ""
    btch = f"<Btch><NbOfTxs>{len(e.txs)}</NbOfTxs></Btch>" if len(e.txs) > 1 else ""
    return (
        f'<Ntry><NtryRef>{e.ref}</NtryRef><Amt Ccy="NOK">{amount}</Amt><CdtDbtInd>{e.direction}</CdtDbtInd>{rvsl}'
        f"<Sts>{e.status}</Sts><BookgDt><Dt>{e.booked}</Dt></BookgDt><ValDt><Dt>{e.value}</Dt></ValDt>"
        f"<AcctSvcrRef>{e.ref}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
        f"<NtryDtls>{btch}{''.join(_tx(t) for t in e.txs)}</NtryDtls></Ntry>"
    )


def camt054(entries: list[Entry], *, encoding: str = "UTF-8", bom: bool = False, msg_id: str = "NO054-1") -> bytes:
    xml = (
        f'<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<Document xmlns="{NS}"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2024-03-04T06:00:00+01:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>N1</Id><CreDtTm>2024-03-04T06:00:00+01:00</CreDtTm>"
        f"<Acct><Id><Othr><Id>{ACCOUNT}</Id><SchmeNm><Cd>BBAN</Cd></SchmeNm></Othr></Id><Ccy>NOK</Ccy></Acct>"
        f"{''.join(_entry(e) for e in entries)}</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    )
    data = xml.encode("utf-8" if encoding.upper() == "UTF-8" else encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
