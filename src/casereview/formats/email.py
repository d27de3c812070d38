"""A reminder digest as an email: a plain-text part and an HTML part with the same
content (`multipart/alternative`), and the plain text alone for a dry run.

What it holds is the `domain.digest.Digest` it is given: case references, pseudonyms,
workflow titles, clock labels, due dates and the steps that would stop each clock. No
case field is among them, so the email carries no personal details; every stored text
is shown through `formats.text.visible` and, in HTML, escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from casereview.domain.clock_status import status_word
from casereview.domain.digest import Digest, DigestItem
from casereview.formats.text import visible

SUBJECT = "casereview reminders"
"""The subject's first words unless the settings give others."""


def _day(iso: str) -> str:
    try:
        return dt.date.fromisoformat(iso).strftime("%a %d %b %Y")
    except ValueError:
        return visible(iso, keep_breaks=False)


def _left(item: DigestItem) -> str:
    days = item.working_days_left
    if days is None:
        return status_word(item.status)
    if days < 0:
        n = -days
        return f"{n} working day{'s' if n != 1 else ''} overdue"
    if days == 0:
        return "due today"
    return f"{days} working day{'s' if days != 1 else ''} left, {status_word(item.status)}"


def _steps(item: DigestItem) -> str:
    seen: list[str] = []
    for step in item.steps:
        words = f"{step.trigger_label} ({step.trigger}"
        words += f", for {step.agency})" if step.agency else ")"
        if words not in seen:
            seen.append(words)
    return "; ".join(visible(w, keep_breaks=False) for w in seen)


def subject(digest: Digest, prefix: str | None = None) -> str:
    overdue, upcoming = len(digest.overdue), len(digest.upcoming)
    counts = [f"{overdue} overdue"] if overdue else []
    if upcoming:
        counts.append(f"{upcoming} due within {digest.within} working days")
    return f"{prefix or SUBJECT}: {', '.join(counts) or 'nothing due'} ({digest.as_of})"


def _who(digest: Digest) -> str:
    """`Ann Officer (crbu)` for a person, `the lead for Police` for an agency's lead."""
    recipient = digest.recipient
    if recipient.kind == "agency":
        return f"the lead for {recipient.label}"
    return f"{recipient.label} ({recipient.key})"


def _intro(digest: Digest) -> str:
    who = visible(_who(digest), keep_breaks=False)
    return (
        f"What is due for {who} as of {_day(digest.as_of)}: clocks overdue, and clocks due "
        f"within the next {digest.within} working days, with the steps that would stop them."
    )


FOOTER = (
    "Cases are named by reference and pseudonym only; this email holds no personal "
    "details. Open casereview for the full case."
)


def plain_text(digest: Digest) -> str:
    lines = [_intro(digest), ""]
    for title, items in (
        ("Overdue", digest.overdue),
        (f"Due within {digest.within} working days", digest.upcoming),
    ):
        if not items:
            continue
        lines += [f"{title} ({len(items)})", "-" * (len(title) + len(str(len(items))) + 3)]
        for item in items:
            ref, pseudonym = (
                visible(item.ref, keep_breaks=False),
                visible(item.pseudonym, keep_breaks=False),
            )
            lines += [
                f"{ref}  {pseudonym}  ({visible(item.workflow, keep_breaks=False)})",
                f"  {visible(item.clock_label, keep_breaks=False)}: due {_day(item.due_on)}, "
                f"{_left(item)}",
                f"  Next: {_steps(item)}",
                "",
            ]
    if not digest.items:
        lines += ["Nothing is due.", ""]
    lines.append(FOOTER)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return html.escape(visible(text, keep_breaks=False))


def html_text(digest: Digest) -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_cell(subject(digest))}</title></head>",
        '<body style="font-family: sans-serif">',
        f"<p>{html.escape(_intro(digest))}</p>",
    ]
    for title, items in (
        ("Overdue", digest.overdue),
        (f"Due within {digest.within} working days", digest.upcoming),
    ):
        if not items:
            continue
        parts += [
            f"<h2>{title} ({len(items)})</h2>",
            '<table cellpadding="4" style="border-collapse: collapse">',
            "<thead><tr><th align=left>Case</th><th align=left>Pseudonym</th>"
            "<th align=left>Clock</th><th align=left>Due</th><th align=left>Standing</th>"
            "<th align=left>Next step</th></tr></thead><tbody>",
        ]
        for item in items:
            parts.append(
                f"<tr><td>{_cell(item.ref)}</td><td>{_cell(item.pseudonym)}</td>"
                f"<td>{_cell(item.clock_label)}<br><small>{_cell(item.workflow)}</small></td>"
                f"<td>{_cell(item.due_on)}</td><td>{html.escape(_left(item))}</td>"
                f"<td>{html.escape(_steps(item))}</td></tr>"
            )
        parts.append("</tbody></table>")
    if not digest.items:
        parts.append("<p>Nothing is due.</p>")
    parts += [f"<p><small>{html.escape(FOOTER)}</small></p>", "</body></html>"]
    return "\n".join(parts) + "\n"


def message(digest: Digest, sender: str, prefix: str | None = None) -> EmailMessage:
    """The email for `digest`: To the recipient's address (which must be set), plain
    text first, HTML as the alternative."""
    address = digest.recipient.address
    if address is None:
        raise ValueError("a digest without an address cannot be mailed")
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = address
    msg["Subject"] = subject(digest, prefix)
    msg["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2].rstrip(">") or None
    msg["Message-ID"] = make_msgid("casereview", domain=domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to a reminder
    msg.set_content(plain_text(digest))
    msg.add_alternative(html_text(digest), subtype="html")
    return msg


def dry_run(digest: Digest, prefix: str | None = None) -> str:
    """What `message` would send, as text: the addressing lines and the plain part."""
    to = digest.recipient.address or "(no address in the settings: not sent)"
    return (
        f"To: {visible(to, keep_breaks=False)}\n"
        f"Subject: {subject(digest, prefix)}\n\n{plain_text(digest)}"
    )
