"""Invoice Response (T111), MLR (T71) and MLS readers: ApplicationResponse → StatusEvent.

T111 points at the invoice number (BT-1); MLR and MLS point at the SBDH InstanceIdentifier of the
message that carried it (research §7).
"""

from __future__ import annotations

from lxml import etree

from connector.einvoice.document import DocClass, Envelope, Party, StatusEvent
from connector.einvoice.fields import ReadError, compact, iso_date, required, scheme, text
from connector.einvoice.ns import CAC, CBC

_RESPONSE = f"{CAC}DocumentResponse/{CAC}Response"


def _party(node: etree._Element | None) -> Party:
    if node is None:
        return Party()
    endpoint = node.find(f"{CBC}EndpointID")
    return Party(
        name=text(node, f"{CAC}PartyLegalEntity/{CBC}RegistrationName") or text(node, f"{CAC}PartyName/{CBC}Name"),
        endpoint_id=compact(endpoint.text) if endpoint is not None and endpoint.text else None,
        endpoint_scheme=scheme(endpoint.get("schemeID")) if endpoint is not None else None,
        party_ids=tuple(v for v in (compact(e.text) for e in node.iterfind(f"{CAC}PartyIdentification/{CBC}ID")) if v),
    )


def read_response(root: etree._Element, doc_class: DocClass, envelope: Envelope | None = None) -> StatusEvent:
    response = root.find(_RESPONSE)
    if response is None:
        raise ReadError("missing DocumentResponse/Response")
    code = required(response, f"{CBC}ResponseCode", "ResponseCode").upper()
    reasons: list[str] = []
    actions: list[str] = []
    texts_: list[str] = []
    conditions: list[tuple[str, str]] = []
    description = text(response, f"{CBC}Description")
    if description:
        texts_.append(description)
    for status in response.iterfind(f"{CAC}Status"):
        for rc in status.iterfind(f"{CBC}StatusReasonCode"):
            value = (rc.text or "").strip()
            if value:
                (actions if rc.get("listID") == "OPStatusAction" else reasons).append(value)
        reason = text(status, f"{CBC}StatusReason")
        if reason:
            texts_.append(reason)
        for cond in status.iterfind(f"{CAC}Condition"):
            attribute = text(cond, f"{CBC}AttributeID")
            if attribute:
                conditions.append((attribute, text(cond, f"{CBC}Description") or ""))
    # MLR/MLS explain a rejection per line (SV syntax, BV rule fatal, BW warning, FD delivery failed).
    for line in root.iterfind(f"{CAC}DocumentResponse/{CAC}LineResponse"):
        where = text(line, f"{CAC}LineReference/{CBC}LineID")
        for r in line.iterfind(f"{CAC}Response"):
            for rc in r.iterfind(f"{CAC}Status/{CBC}StatusReasonCode"):
                if rc.text and rc.text.strip():
                    reasons.append(rc.text.strip())
            detail = text(r, f"{CBC}Description")
            if detail:
                texts_.append(f"{detail} (at {where})" if where and where != "NA" else detail)
    reference = root.find(f"{CAC}DocumentResponse/{CAC}DocumentReference")
    issue = iso_date(required(root, f"{CBC}IssueDate", "IssueDate"), "IssueDate")
    assert issue is not None
    return StatusEvent(
        doc_class=doc_class,
        response_id=required(root, f"{CBC}ID", "response ID"),
        issue_date=issue,
        issue_time=text(root, f"{CBC}IssueTime"),
        code=code,
        ref_id=text(reference, f"{CBC}ID"),
        ref_type_code=text(reference, f"{CBC}DocumentTypeCode"),
        ref_issue_date=iso_date(text(reference, f"{CBC}IssueDate"), "DocumentReference/IssueDate"),
        effective_date=iso_date(text(response, f"{CBC}EffectiveDate"), "EffectiveDate"),
        reason_codes=tuple(dict.fromkeys(reasons)),
        action_codes=tuple(dict.fromkeys(actions)),
        texts=tuple(texts_),
        conditions=tuple(conditions),
        sender=_party(root.find(f"{CAC}SenderParty")),
        receiver=_party(root.find(f"{CAC}ReceiverParty")),
        issuer_name=text(root, f"{CAC}DocumentResponse/{CAC}IssuerParty/{CAC}PartyName/{CBC}Name"),
        sbdh_instance_id=envelope.instance_id if envelope else None,
    )
