"""The advice report as a terminal table, CSV and a self-contained HTML page (inline SVG charts, inline
CSS, no script, nothing fetched). The figures come from ``connector.reports.advice``; every one carries a
one-line explanation (``FIGURES``), and the CSV holds the same numbers, unformatted, one per row."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from html import escape

from connector import formats
from connector.config import LANGUAGE_BY_COUNTRY
from connector.credit.risk import RiskLevel
from connector.formats import day, days, month
from connector.formats import share as pct
from connector.reports import svg
from connector.reports.advice import (
    ClientAdvice,
    PortfolioAdvice,
    RiskyCustomer,
    TermsShare,
    average,
    delivery_buckets,
    median,
)
from connector.reports.tables import render


def num(value: Decimal | int, lang: str, places: int = 0) -> str:
    """Counts and figures: whole unless told."""
    return formats.amount(value, lang, places)


def many(count: int, one: str, more: str, shown: str | None = None) -> str:
    """``count`` things, the word in number: "1 case", "2 cases" (``shown``: the count as formatted)."""
    return f"{count if shown is None else shown} {one if count == 1 else more}"


def _invoices(count: int, lang: str) -> str:
    return many(count, "invoice", "invoices", num(count, lang))


def money(value: Decimal, currency: str, lang: str) -> str:
    """Whole units: a report's amounts are for comparing, not for booking."""
    return formats.money(value, currency, lang, places=0)


# figure → (title, what it measures and why it matters, in one line)
FIGURES: dict[str, tuple[str, str]] = {
    "dso": (
        "Days sales outstanding (DSO)",
        "Receivables open at the period's end ÷ what was invoiced in the 90 days before, × 90: "
        "the days of sales still waiting to be paid. Lower is faster.",
    ),
    "dso_trend": (
        "DSO month by month",
        "The same measure at each month's end: a rising line means customers are paying more slowly.",
    ),
    "delivery_to_invoice": (
        "Days from delivery to invoice",
        "Issue date − delivery date (EHF ActualDeliveryDate, else the invoice period's end), over the invoices "
        "that state it: each day is credit given for free. Invoice at delivery.",
    ),
    "payment_terms": (
        "Payment terms in use",
        "Due date − issue date of the period's invoices: shorter terms bring the money in sooner.",
    ),
    "einvoice_share": (
        "Sent as e-invoice",
        "Share of the period's invoices sent as EHF / Peppol: they land in the buyer's accounting system "
        "and are paid sooner than e-mailed PDFs.",
    ),
    "einvoice_candidates": (
        "Can receive EHF, got none",
        "Customers the Peppol Directory lists as invoice receivers that were sent no e-invoice in the period.",
    ),
    "paid_after_first_reminder": (
        "Paid after the first reminder",
        "Of the invoices first reminded in the period, the share paid before any further step: "
        "reminding systematically pays.",
    ),
    "disputes": (
        "Disputes",
        "Disputes opened in the period and the days from opened to resolved: a dispute holds the money "
        "until it is answered.",
    ),
    "inkasso": (
        "Handed to inkasso",
        "Cases pushed to the inkasso provider in the period, and what has been paid on them since.",
    ),
    "riskiest_customers": (
        "Riskiest customers",
        "Customers at watch or high: the newest credit check, else their payment history in the ledger.",
    ),
}


def lang_of(country: str) -> str:
    return LANGUAGE_BY_COUNTRY.get(country, "nb")


# ---- CSV: one number per row ---------------------------------------------------------------------

CSV_HEADERS = ["client", "client_name", "figure", "key", "value", "unit", "currency"]


def csv_rows(report: PortfolioAdvice) -> Iterator[list[str]]:
    for c in report.clients:
        yield from _client_rows(c)
    yield from _portfolio_rows(report)


def _v(value: Decimal | int | None) -> str:
    return "" if value is None else str(value)


def _client_rows(c: ClientAdvice) -> Iterator[list[str]]:
    def row(figure: str, key: str, value: Decimal | int | None, unit: str, currency: str = "") -> list[str]:
        return [c.client_id, c.name, figure, key, _v(value), unit, currency]

    yield row("invoices", "", c.invoices, "count")
    yield row("invoiced", "", c.invoiced, "amount", c.currency)
    yield row("dso", c.period.end.isoformat(), c.dso, "days")
    yield row("dso_change", "", c.dso_change, "days")
    for p in c.dso_points:
        yield row("dso_trend", p.on.isoformat(), p.dso, "days")
    yield row("delivery_to_invoice", "average", average(c.delivery_days), "days")
    yield row("delivery_to_invoice", "median", median(c.delivery_days), "days")
    yield row("delivery_to_invoice", "invoices", len(c.delivery_days), "count")
    for label, count in c.delivery_buckets():
        yield row("delivery_to_invoice", label, count, "count")
    for t in c.terms:
        yield row("payment_terms", f"{t.days} days", t.invoices, "count")
    yield row("payment_terms", "no due date", c.no_terms, "count")
    yield row("einvoice_share", "", c.einvoice_share, "share")
    yield row("einvoice_share", "invoices", c.einvoiced, "count")
    for e in c.einvoice_candidates:
        yield [
            c.client_id,
            c.name,
            "einvoice_candidates",
            f"{e.customer_id} {e.name}",
            _v(e.amount),
            "amount",
            e.currency,
        ]
    yield row("paid_after_first_reminder", "", c.paid_after_reminder_share, "share")
    yield row("paid_after_first_reminder", "reminded", c.reminded, "count")
    yield row("paid_after_first_reminder", "paid", c.paid_after_reminder, "count")
    yield row("paid_after_first_reminder", "average days to payment", average(c.reminder_to_payment_days), "days")
    yield row("disputes", "opened", c.disputes_opened, "count")
    yield row("disputes", "still open", c.disputes_open, "count")
    yield row("disputes", "average days to resolve", average(c.dispute_days), "days")
    yield row("disputes", "median days to resolve", median(c.dispute_days), "days")
    yield row("inkasso", "cases", c.inkasso_cases, "count")
    yield row("inkasso", "handed over", c.inkasso_amount, "amount", c.currency)
    yield row("inkasso", "recovered", c.inkasso_recovered, "amount", c.currency)
    yield row("inkasso", "recovered share", c.recovered_share, "share")
    for r in c.riskiest:
        yield [c.client_id, c.name, "riskiest_customers", f"{r.customer_id} {r.name}", str(r.level), "level", ""]


def _portfolio_rows(p: PortfolioAdvice) -> Iterator[list[str]]:
    def row(figure: str, key: str, value: Decimal | int | None, unit: str, currency: str = "") -> list[str]:
        return ["portfolio", many(len(p.clients), "client", "clients"), figure, key, _v(value), unit, currency]

    yield row("invoices", "", p.invoices, "count")
    for currency, dso, handed, recovered in p.by_currency():
        yield row("dso", p.period.end.isoformat(), dso, "days", currency)
        yield row("inkasso", "handed over", handed, "amount", currency)
        yield row("inkasso", "recovered", recovered, "amount", currency)
    yield row("delivery_to_invoice", "average", average(p.delivery_days), "days")
    for t in p.terms():
        yield row("payment_terms", f"{t.days} days", t.invoices, "count")
    yield row("einvoice_share", "", p.einvoice_share, "share")
    yield row("einvoice_candidates", "customers", p.einvoice_candidates, "count")
    yield row("paid_after_first_reminder", "", p.paid_after_reminder_share, "share")
    yield row("disputes", "opened", p.disputes_opened, "count")
    yield row("disputes", "average days to resolve", average(p.dispute_days), "days")
    for r in p.riskiest:
        yield row("riskiest_customers", f"{r.client_id} {r.customer_id} {r.name}", None, str(r.level))


def render_csv(report: PortfolioAdvice) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADERS)
    writer.writerows(csv_rows(report))
    return buf.getvalue()


# ---- the terminal ----------------------------------------------------------------------------------


def _share_text(fraction: Decimal | None) -> str:
    return "-" if fraction is None else f"{(fraction * 100).quantize(Decimal('0.1'))} %"


def _days_text(value: Decimal | None) -> str:
    return "-" if value is None else f"{value} days"


def _terms_text(terms: Sequence[TermsShare], total: int) -> str:
    if not terms:
        return "-"
    shown = ", ".join(f"{t.days} days ({_share_text(Decimal(t.invoices) / total)})" for t in terms[:4])
    return shown + (f", {len(terms) - 4} more" if len(terms) > 4 else "")


def _client_lines(c: ClientAdvice) -> list[list[str]]:
    change = c.dso_change
    trend = "" if change is None else f" ({'+' if change > 0 else ''}{change} over the period)"
    cands = ", ".join(e.name for e in c.einvoice_candidates[:3]) or "none"
    if c.peppol == "off":
        cands = "not looked up ([clients.registry] enabled = false)"
    risky = ", ".join(f"{r.name} ({r.level})" for r in c.riskiest[:3]) or "none"
    dispute = (
        f"{c.disputes_opened} opened, {c.disputes_open} still open, {_days_text(average(c.dispute_days))} to resolve"
    )
    cases = many(c.inkasso_cases, "case", "cases")
    handed = f"{cases}, {c.inkasso_amount} {c.currency}; recovered {c.inkasso_recovered} {c.currency}"
    stating = many(len(c.delivery_days), "invoice states", "invoices state")
    delivery = f"{_days_text(average(c.delivery_days))} on average ({stating} it)"
    reminded = f"{_share_text(c.paid_after_reminder_share)} of {c.reminded}"
    return [
        ["invoices", f"{c.invoices} ({c.invoiced} {c.currency})"],
        ["DSO", _days_text(c.dso) + trend],
        ["delivery to invoice", delivery if c.delivery_days else "-"],
        ["payment terms", _terms_text(c.terms, sum(t.invoices for t in c.terms))],
        ["sent as e-invoice", f"{_share_text(c.einvoice_share)} ({c.einvoiced} of {c.invoices})"],
        ["can receive EHF, got none", cands],
        ["paid after 1st reminder", reminded],
        ["disputes", dispute],
        ["inkasso", handed],
        ["riskiest customers", risky],
    ]


def render_table(report: PortfolioAdvice) -> str:
    p = report.period
    out = [f"Advice {p.start.isoformat()} – {p.end.isoformat()}"]
    for c in report.clients:
        out += ["", f"{c.client_id} — {c.name}", render(["figure", "value"], _client_lines(c))]
        out += [f"note: {n}" for n in c.notes]
    if len(report.clients) > 1:
        lines = [["invoices", str(report.invoices)]]
        lines += [["DSO " + cur, _days_text(dso)] for cur, dso, _, _ in report.by_currency()]
        lines += [
            ["sent as e-invoice", _share_text(report.einvoice_share)],
            ["paid after 1st reminder", _share_text(report.paid_after_reminder_share)],
            ["disputes", f"{report.disputes_opened} opened, {_days_text(average(report.dispute_days))} to resolve"],
        ]
        out += ["", "Portfolio", render(["figure", "value"], lines)]
    return "\n".join(out)


# ---- HTML --------------------------------------------------------------------------------------------

_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f5f7fa;color:#1f2933}
header{background:#1f3a5f;color:#fff;padding:20px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;opacity:.85}
main{max-width:1180px;margin:0 auto;padding:16px 32px 48px}
section.client,section.portfolio{margin-top:28px}
h2{font-size:19px;margin:0 0 10px;border-bottom:2px solid #d5dde6;padding-bottom:6px}
h2 small{font-weight:normal;color:#6b7785;font-size:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:14px}
.card{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:14px 16px}
.card h3{margin:0;font-size:14px;color:#3e4c59;text-transform:uppercase;letter-spacing:.03em}
.card .big{font-size:28px;font-weight:600;margin:4px 0 2px}
.card .why{color:#52606d;font-size:13px;margin:0 0 8px}
.card .sub{color:#52606d;font-size:13px;margin:6px 0 0}
.card.wide{grid-column:1/-1}
.chart{max-width:100%;height:auto;display:block}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e3e8ee;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}
td.when{white-space:nowrap;color:#52606d}
.level{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;color:#fff}
.level.high{background:#c0392b}.level.watch{background:#d08a1e}.level.low{background:#2e8b57}
.notes{color:#52606d;font-size:13px;margin:8px 0 0;padding-left:18px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin-bottom:14px}
.kpi{background:#fff;border:1px solid #dde3ea;border-radius:8px;padding:10px 14px}
.kpi b{display:block;font-size:24px}
.kpi span{color:#52606d;font-size:12px}
"""


WIDE = 1080  # a chart across a whole card row


def _card(figure: str, big: str, body: str = "", sub: str = "", wide: bool = False) -> str:
    title, why = FIGURES[figure]
    return (
        f'<div class="card{" wide" if wide else ""}" data-figure="{figure}"><h3>{escape(title)}</h3>'
        f'<div class="big">{escape(big)}</div><p class="why">{escape(why)}</p>{body}'
        + (f'<p class="sub">{escape(sub)}</p>' if sub else "")
        + "</div>"
    )


def _level(level: RiskLevel) -> str:
    return f'<span class="level {level}">{escape(str(level))}</span>'


def _risky_table(rows: Sequence[RiskyCustomer], lang: str, with_client: bool = False) -> str:
    if not rows:
        return '<p class="sub">No customer at watch or high.</p>'
    head = ("<th>client</th>" if with_client else "") + (
        '<th>customer</th><th>level</th><th>why</th><th class="n">overdue</th><th>checked</th>'
    )
    body = []
    for r in rows:
        checked = day(r.checked_on, lang) if r.checked_on else "ledger only"
        client = f"<td>{escape(r.client_id)}</td>" if with_client else ""
        body.append(
            f"<tr>{client}<td>{escape(r.name)}</td><td>{_level(r.level)}</td><td>{escape(r.reason)}</td>"
            f'<td class="n">{escape(money(r.overdue, r.currency, lang))}</td>'
            f'<td class="when">{escape(checked)}</td></tr>'
        )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _terms_chart(terms: Sequence[TermsShare], lang: str) -> str:
    total = sum(t.invoices for t in terms)
    parts = [(f"{t.days} days", Decimal(t.invoices), pct(Decimal(t.invoices) / total, lang)) for t in terms[:5]]
    rest = sum(t.invoices for t in terms[5:])
    if rest:
        parts.append(("other", Decimal(rest), pct(Decimal(rest) / total, lang)))
    return svg.stacked_bar(parts, "Payment terms in use, by share of invoices")


def _client_section(c: ClientAdvice) -> str:
    lang = lang_of(c.country)
    change = c.dso_change
    trend = "" if change is None else f"{'+' if change > 0 else ''}{num(change, lang, 1)} days over the period"
    points = [(month(p.on, lang), p.dso, days(p.dso, lang)) for p in c.dso_points]
    cards = [
        _card(
            "dso",
            days(c.dso, lang),
            svg.line_chart(points, f"DSO at each month's end, {c.name}", width=WIDE),
            sub=(trend + ". " if trend else "") + FIGURES["dso_trend"][1],
            wide=True,
        )
    ]
    buckets = [(label, Decimal(n), num(n, lang)) for label, n in delivery_buckets(c.delivery_days)]
    delivery_sub = f"{num(len(c.delivery_days), lang)} of {num(c.invoices, lang)} invoices state a delivery date"
    if c.delivery_days:
        delivery_sub += f"; median {days(median(c.delivery_days), lang)}"
    cards.append(
        _card(
            "delivery_to_invoice",
            days(average(c.delivery_days), lang),
            svg.bar_rows(buckets, "Invoices by days from delivery to invoice") if c.delivery_days else "",
            sub=delivery_sub + ".",
        )
    )
    top = c.terms[0] if c.terms else None
    top_text = f"{top.days} days" if top else "–"
    no_due = f"; {num(c.no_terms, lang)} without a due date" if c.no_terms else ""
    cards.append(
        _card(
            "payment_terms",
            top_text,
            _terms_chart(c.terms, lang),
            sub=f"Most used: {top_text}{no_due}.",
        )
    )
    share_text = pct(c.einvoice_share, lang)
    cards.append(
        _card(
            "einvoice_share",
            share_text,
            svg.share_bar(c.einvoice_share, share_text, "Share of invoices sent as e-invoice"),
            sub=f"{num(c.einvoiced, lang)} of {_invoices(c.invoices, lang)}.",
        )
    )
    cards.append(_candidates_card(c, lang))
    reminder = pct(c.paid_after_reminder_share, lang)
    avg_days = average(c.reminder_to_payment_days)
    cards.append(
        _card(
            "paid_after_first_reminder",
            reminder,
            svg.share_bar(c.paid_after_reminder_share, reminder, "Share paid after the first reminder"),
            sub=f"{num(c.paid_after_reminder, lang)} of {num(c.reminded, lang)} reminded invoices"
            + (f", paid {days(avg_days, lang)} after the reminder on average." if avg_days is not None else "."),
        )
    )
    dispute_rows = [
        ("opened", Decimal(c.disputes_opened), num(c.disputes_opened, lang)),
        ("resolved", Decimal(len(c.dispute_days)), num(len(c.dispute_days), lang)),
        ("still open", Decimal(c.disputes_open), num(c.disputes_open, lang)),
    ]
    cards.append(
        _card(
            "disputes",
            f"{num(c.disputes_opened, lang)} opened",
            svg.bar_rows(dispute_rows, "Disputes opened, resolved and open", colour=svg.WARN, label_width=110),
            sub=f"Days to resolve: average {days(average(c.dispute_days), lang)}, "
            f"median {days(median(c.dispute_days), lang)}.",
        )
    )
    inkasso_rows = [
        ("handed over", c.inkasso_amount, money(c.inkasso_amount, c.currency, lang)),
        ("recovered", c.inkasso_recovered, money(c.inkasso_recovered, c.currency, lang)),
    ]
    if c.inkasso_cases:
        chart = svg.bar_rows(inkasso_rows, "Handed to inkasso and recovered", colour=svg.BAD, label_width=110)
        cases = many(c.inkasso_cases, "case", "cases", num(c.inkasso_cases, lang))
        handed = f"{cases}; {pct(c.recovered_share, lang)} recovered so far."
    else:
        chart, handed = "", "No case was handed over in the period."
    cards.append(_card("inkasso", money(c.inkasso_amount, c.currency, lang), chart, sub=handed))
    cards.append(
        _card("riskiest_customers", f"{num(len(c.riskiest), lang)}", _risky_table(c.riskiest, lang), wide=True)
    )
    notes = "".join(f"<li>{escape(n)}</li>" for n in c.notes)
    return (
        f'<section class="client" id="client-{escape(c.client_id)}" lang="{lang}">'
        f"<h2>{escape(c.name)} <small>{escape(c.client_id)} · {_invoices(c.invoices, lang)}, "
        f"{escape(money(c.invoiced, c.currency, lang))}</small></h2>"
        f'<div class="grid">{"".join(cards)}</div>'
        + (f'<ul class="notes">{notes}</ul>' if notes else "")
        + "</section>"
    )


def _candidates_card(c: ClientAdvice, lang: str) -> str:
    if c.peppol == "off":
        return _card("einvoice_candidates", "–", sub="Not looked up: [clients.registry] enabled = false.")
    if not c.einvoice_candidates and c.peppol == "asked":
        body = '<p class="sub">None: every customer the directory lists got e-invoices.</p>'
    elif not c.einvoice_candidates:
        body = '<p class="sub">None found among the customers the directory could be asked about.</p>'
    else:
        rows = "".join(
            f"<tr><td>{escape(e.name)}</td><td>{escape(e.org_no)}</td><td class='n'>{num(e.invoices, lang)}</td>"
            f"<td class='n'>{escape(money(e.amount, e.currency, lang))}</td></tr>"
            for e in c.einvoice_candidates
        )
        body = (
            "<table><thead><tr><th>customer</th><th>org no</th><th class='n'>invoices</th>"
            f"<th class='n'>amount</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    sub = "" if c.peppol == "asked" else f"Peppol Directory: {c.peppol}."
    return _card(
        "einvoice_candidates",
        many(len(c.einvoice_candidates), "customer", "customers", num(len(c.einvoice_candidates), lang)),
        body,
        sub=sub,
    )


def _portfolio_section(report: PortfolioAdvice) -> str:
    langs = Counter(lang_of(c.country) for c in report.clients)
    lang = langs.most_common(1)[0][0] if langs else "nb"
    kpis = [(days(dso, lang), f"DSO, {cur}") for cur, dso, _, _ in report.by_currency()]
    kpis += [
        (pct(report.einvoice_share, lang), "sent as e-invoice"),
        (pct(report.paid_after_reminder_share, lang), "paid after the first reminder"),
        (days(average(report.delivery_days), lang), "delivery to invoice"),
        (f"{num(report.disputes_opened, lang)}", "disputes opened"),
        (f"{num(report.einvoice_candidates, lang)}", "customers that could get EHF"),
    ]
    kpi_html = "".join(f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in kpis)
    dso_rows = [
        (f"{c.name}", c.dso if c.dso is not None else Decimal(0), days(c.dso, lang_of(c.country)))
        for c in sorted(report.clients, key=lambda c: -(c.dso or 0))
    ]
    cards = [
        _card(
            "dso",
            ", ".join(days(dso, lang) + f" {cur}" for cur, dso, _, _ in report.by_currency()) or "–",
            svg.bar_rows(dso_rows, "DSO per client at the period's end", width=WIDE, label_width=220),
            sub="Per client, highest first; the headline pools the receivables and sales of each currency.",
            wide=True,
        ),
        _card(
            "riskiest_customers",
            f"{num(len(report.riskiest), lang)}",
            _risky_table(report.riskiest, lang, with_client=True),
            wide=True,
        ),
    ]
    return (
        f'<section class="portfolio" id="portfolio" lang="{lang}"><h2>Portfolio <small>'
        f"{many(len(report.clients), 'client', 'clients', num(len(report.clients), lang))} · "
        f"{_invoices(report.invoices, lang)}</small></h2>"
        f'<div class="kpis">{kpi_html}</div><div class="grid">{"".join(cards)}</div></section>'
    )


def render_html(report: PortfolioAdvice, generated: date) -> str:
    p = report.period
    sections = [_portfolio_section(report)] if len(report.clients) > 1 else []
    sections += [_client_section(c) for c in report.clients]
    if not report.clients:
        sections = ["<p>No clients selected.</p>"]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Advice {p.start.isoformat()} – {p.end.isoformat()}</title><style>{_CSS}</style></head><body>"
        f"<header><h1>What would get your clients paid faster</h1>"
        f"<p>Period {p.start.isoformat()} – {p.end.isoformat()} · made {generated.isoformat()} by arsync</p></header>"
        f"<main>{''.join(sections)}</main></body></html>\n"
    )
