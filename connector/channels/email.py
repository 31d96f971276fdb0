"""The ``email`` channel: the letter's text as the body, the PDF letter and the invoice copies attached.

SMTP with STARTTLS (refused when the server does not offer it, unless the config turns it off for a
local relay); the password comes from the environment at the moment of sending and is never logged.
The Message-ID is derived from the letter's reference, so a receiver can spot a duplicate.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from connector.channels.base import ChannelError, LetterMessage, SendResult
from connector.config import EmailSettings, secret
from connector.files import safe_name


class EmailChannel:
    name = "email"

    def __init__(self, settings: EmailSettings, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.ssl_context = ssl_context  # tests pass one that trusts their self-signed certificate

    def build(self, message: LetterMessage) -> EmailMessage:
        to = message.customer.email
        if not to:
            raise ChannelError(f"customer {message.customer.customer_id} has no e-mail address")
        msg = EmailMessage()
        msg["From"] = self.settings.from_address
        msg["To"] = to
        if self.settings.reply_to:
            msg["Reply-To"] = self.settings.reply_to
        msg["Subject"] = message.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(idstring=safe_name(message.stem), domain="arsync.invalid")
        msg.set_content(message.body)
        msg.add_attachment(
            message.letter_pdf, maintype="application", subtype="pdf", filename=f"{safe_name(message.letter_id)}.pdf"
        )
        for att in message.copies:
            msg.add_attachment(att.content, maintype="application", subtype="pdf", filename=att.filename)
        return msg

    def deliver_letter(self, message: LetterMessage) -> SendResult:
        msg = self.build(message)
        s = self.settings
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds) as smtp:
                smtp.ehlo()
                if s.starttls:
                    if not smtp.has_extn("starttls"):
                        raise ChannelError(f"{s.host}:{s.port} does not offer STARTTLS; refusing to send in clear")
                    smtp.starttls(context=self.ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if s.username:
                    password = secret(s.password_env) if s.password_env else ""
                    smtp.login(s.username, password)
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            raise ChannelError(
                f"e-mail to {msg['To']} via {s.host}:{s.port} failed: {exc.__class__.__name__}"
            ) from None
        return SendResult(self.name, str(msg["Message-ID"]))
