"""Optional official validation: the Peppol BIS Billing 3 / EN 16931 / T111 / T71 Schematron,
precompiled to XSLT 2.0, run by SaxonC-HE (``pip install 'arsync[validate]'``).

The rule files are not shipped (OpenPeppol's licence): point ``--rules`` or ``$ARSYNC_PEPPOL_RULES``
at a folder holding the release's XSLT (e.g. phax/phive-rules ``openpeppol/2026.5/xslt``, Billing
3.0.21). The input is parsed by our hardened parser first; Saxon only sees the re-serialised payload,
so a DOCTYPE or entity never reaches it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from connector.einvoice.classify import EnvelopeError, classify, unwrap_sbdh
from connector.einvoice.document import DocClass
from connector.safexml import XmlError, parse_bytes

RULES_ENV = "ARSYNC_PEPPOL_RULES"
INSTALL_HINT = (
    'official validation needs SaxonC-HE: pip install -e ".[validate]" in a clone of arsync (or pip install saxonche)'
)
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}

# Which stylesheets apply to which document, in order (CEN core rules, then Peppol's).
_BILLING = ("CEN-EN16931-UBL.xslt", "PEPPOL-EN16931-UBL.xslt")
STAGES: dict[DocClass, tuple[str, ...]] = {
    DocClass.INVOICE: _BILLING,
    DocClass.CREDIT_NOTE: _BILLING,
    DocClass.INVOICE_RESPONSE: ("PEPPOLBIS-T111.xslt",),
    DocClass.MLR: ("PEPPOLBIS-T71.xslt",),
}


class ValidationUnavailable(RuntimeError):
    """saxonche is not installed, or the rule files are not where we were told."""


@dataclass(frozen=True)
class Failure:
    flag: str  # "fatal" or "warning"
    rule: str  # e.g. "PEPPOL-EN16931-R001", "NO-R-001", "BR-CO-16"
    location: str
    text: str
    stage: str

    @property
    def fatal(self) -> bool:
        return self.flag != "warning"


@dataclass(frozen=True)
class Report:
    name: str
    doc_class: DocClass
    failures: tuple[Failure, ...]
    note: str = ""  # why nothing was checked, when nothing was

    @property
    def ok(self) -> bool:
        return not self.note.startswith("error") and not any(f.fatal for f in self.failures)


def rules_dir(given: str | Path | None = None) -> Path:
    value = str(given or os.environ.get(RULES_ENV) or "")
    folder = Path(value)
    if not value or not folder.is_dir():
        raise ValidationUnavailable(
            f"no rules folder: pass --rules DIR or set ${RULES_ENV} (the release's xslt/ folder; the README says "
            "where to get the official rule files)"
        )
    return folder


class Validator:
    """Compiles each stylesheet once (≈0.4 s for the billing pair), then a few ms per document."""

    def __init__(self, rules: Path):
        try:
            from saxonche import PySaxonProcessor
        except ImportError:
            raise ValidationUnavailable(INSTALL_HINT) from None
        self.rules = rules
        self._proc: Any = PySaxonProcessor(license=False)
        self._xslt: Any = self._proc.new_xslt30_processor()
        self._compiled: dict[str, Any] = {}

    def _stage(self, filename: str) -> Any:
        if filename not in self._compiled:
            path = self.rules / filename
            if not path.is_file():
                raise ValidationUnavailable(f"rule file {path} not found")
            self._compiled[filename] = self._xslt.compile_stylesheet(stylesheet_file=str(path))
        return self._compiled[filename]

    def validate(self, data: bytes, name: str) -> Report:
        try:
            root, _envelope = unwrap_sbdh(parse_bytes(data, name, keep_blank_text=True))
        except (XmlError, EnvelopeError) as exc:
            return Report(name, DocClass.UNKNOWN, (), f"error: {exc}")
        doc_class = classify(root)
        stages = STAGES.get(doc_class)
        if not stages:
            return Report(name, doc_class, (), f"no official rules configured for {doc_class.value} documents")
        text = etree.tostring(root, encoding="unicode")
        node = self._proc.parse_xml(xml_text=text)
        failures: list[Failure] = []
        for filename in stages:
            svrl = self._stage(filename).transform_to_string(xdm_node=node)
            for fa in etree.fromstring(svrl.encode("utf-8")).iterfind(".//svrl:failed-assert", SVRL):
                failures.append(
                    Failure(
                        flag=fa.get("flag") or "fatal",
                        rule=fa.get("id") or "?",
                        location=fa.get("location") or "",
                        text=" ".join((fa.findtext("svrl:text", namespaces=SVRL) or "").split()),
                        stage=filename.removesuffix(".xslt"),
                    )
                )
        return Report(name, doc_class, tuple(failures))
