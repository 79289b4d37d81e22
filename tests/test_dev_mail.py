"""Development mail lands in the data directory readable by a person: decoded UTF-8 text."""

from __future__ import annotations

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation

from govreq.web.mail import ConsoleAndFileBackend


def test_a_chinese_sign_in_mail_is_stored_decoded(tmp_path):
    with translation.override("zh-hant"):
        context = {"officer": {"name": "陳大文"}, "code": "12345678", "minutes": 10}
        subject = render_to_string("portal/email/sign_in_code_subject.txt", context).strip()
        body = render_to_string("portal/email/sign_in_code.txt", context)
    assert "sign" not in subject.lower()  # translated
    backend = ConsoleAndFileBackend(file_path=str(tmp_path))
    assert backend.send_messages([EmailMessage(subject, body, "g@x.invalid", ["a@b.invalid"])]) == 1
    (stored,) = tmp_path.iterdir()
    text = stored.read_text("utf-8")
    assert f"Subject: {subject}" in text
    assert "陳大文" in text and "12345678" in text
    assert "base64" not in text.lower() and "=?utf-8?" not in text.lower()
