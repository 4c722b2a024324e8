"""A message as a plain-text e-mail through an SMTP relay (STARTTLS, implicit TLS, or none).

A temporary refusal (4xx), a dropped connection or an unreachable relay is retried; a permanent
refusal (5xx: an unknown recipient, a sender the relay does not accept) is not.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from agent.logs import get_logger
from agent.notify.delivery import Undelivered, secret
from agent.notify.message import Message
from integrations.email.settings import EmailSettings

log = get_logger()


def email(message: Message, section: EmailSettings) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"[Annexa] {' '.join(message.title.split())}"
    mail["From"] = section.sender
    mail["To"] = ", ".join(section.recipients)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = make_msgid(idstring=message.delivery, domain="annexa")
    mail["X-Annexa-Event"] = message.event.value
    mail.set_content(message.text())
    return mail


def _connect(section: EmailSettings, timeout: float) -> smtplib.SMTP:
    if section.security == "tls":
        return smtplib.SMTP_SSL(
            section.host, section.port, timeout=timeout, context=ssl.create_default_context()
        )
    relay = smtplib.SMTP(section.host, section.port, timeout=timeout)
    if section.security == "starttls":
        relay.starttls(context=ssl.create_default_context())  # fails closed if the relay cannot
    return relay


def send(message: Message, section: EmailSettings, timeout: float) -> None:
    if not (section.host and section.sender and section.recipients):
        raise Undelivered("notify.email needs host, sender and recipients", retryable=False)
    password = (
        secret("SMTP password", env=section.password_env, key="notify.email.password_env")
        if section.username
        else ""
    )
    try:
        with _connect(section, timeout) as relay:
            if section.username:
                relay.login(section.username, password)
            refused = relay.send_message(email(message, section))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise Undelivered(
            f"the SMTP relay refused every recipient ({min(codes)})", retryable=max(codes) < 500
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise Undelivered(
            f"the SMTP relay refused ({exc.smtp_code})", retryable=exc.smtp_code < 500
        ) from None
    except smtplib.SMTPNotSupportedError:
        raise Undelivered(
            f"the SMTP relay does not support {section.security} or login", retryable=False
        ) from None
    except smtplib.SMTPServerDisconnected:
        raise Undelivered("the SMTP relay dropped the connection", retryable=True) from None
    except (smtplib.SMTPException, ssl.SSLCertVerificationError) as exc:
        raise Undelivered(f"the SMTP exchange failed ({type(exc).__name__})", retryable=False) from None
    except OSError as exc:  # unreachable, timed out, or the connection reset
        raise Undelivered(f"the SMTP relay is unreachable ({type(exc).__name__})", retryable=True) from None
    if refused:  # the others have it; a retry would send them a second copy
        log.warning("email_recipients_refused", refused=len(refused), of=len(section.recipients))
