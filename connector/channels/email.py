"""The ``email`` reminder channel: the letter as the body, EHF Reminder XML and invoice PDF attached.

SMTP with STARTTLS (refused when the server does not offer it, unless the config turns it off for a
local relay); the password comes from the environment at the moment of sending and is never logged.
The Message-ID is derived from (client, invoice, step, day), so a receiver can spot a duplicate.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from connector.channels import ehf_reminder
from connector.channels.base import ChannelError, ReminderMessage, SendResult
from connector.config import EmailSettings, secret
from connector.files import safe_name


class EmailChannel:
    name = "email"

    def __init__(self, settings: EmailSettings, ssl_context: ssl.SSLContext | None = None):
        self.settings = settings
        self.ssl_context = ssl_context  # tests pass one that trusts their self-signed certificate

    def build(self, message: ReminderMessage) -> EmailMessage:
        to = message.customer.email
        if not to:
            raise ChannelError(f"customer {message.customer.customer_id} has no e-mail address")
        letter = message.letter.render()
        msg = EmailMessage()
        msg["From"] = self.settings.from_address
        msg["To"] = to
        if self.settings.reply_to:
            msg["Reply-To"] = self.settings.reply_to
        msg["Subject"] = f"{letter.splitlines()[0]} — {message.invoice.number}"
        msg["Date"] = formatdate(localtime=False)
        stem = f"{safe_name(message.client_id)}.{safe_name(message.invoice.number)}.{message.letter.step}"
        msg["Message-ID"] = make_msgid(idstring=f"{stem}.{message.sent_on:%Y%m%d}", domain="arsync.invalid")
        msg.set_content(letter)
        msg.add_attachment(
            ehf_reminder.build(message),
            maintype="application",
            subtype="xml",
            filename=f"{ehf_reminder.reminder_number(message)}.xml",
        )
        for att in message.attachments:
            maintype, _, subtype = att.mime_type.partition("/")
            msg.add_attachment(att.content, maintype=maintype, subtype=subtype or "octet-stream", filename=att.filename)
        return msg

    def deliver(self, message: ReminderMessage) -> SendResult:
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
