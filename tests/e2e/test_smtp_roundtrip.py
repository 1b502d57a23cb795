"""Send, then fetch: what the smtp fake accepts reaches the pop3 fake of the same farm through
the MailDrop (`deliveries_from:`), byte for byte; what it refuses does not."""

import email
import email.message
import poplib
import smtplib
import unittest

from farm import Farm
from smtp_util import messages, saved

ROUNDTRIP = """
name: smtp-roundtrip
servers:
  mail:
    protocol: smtp
    rules:
      - on: RCPT
        match: carol@
        reply: "550 5.1.1 no such user"
  pop:
    protocol: pop3
    deliveries_from: mail
    mailboxes:
      bob:
        password: hunter2
        address: bob@example.test
      carol:
        password: carol
        address: carol@example.test
"""


class RoundTrip(unittest.TestCase):
    def test_send_then_fetch(self):
        m = email.message.EmailMessage()
        m["From"] = "alice@example.test"
        m["To"] = "bob@example.test, carol@example.test"
        m["Subject"] = "round trip"
        m.set_content("Hi Bob,\n.a line that starts with a dot\n")
        with Farm(ROUNDTRIP) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                refused = client.send_message(m)
            self.assertEqual(list(refused), ["carol@example.test"])
            farm.wait_sessions("mail", 1)
            pop = poplib.POP3(*farm.address("pop"), timeout=10)
            try:
                pop.user("bob")
                pop.pass_("hunter2")
                count, _ = pop.stat()
                self.assertEqual(count, 1)
                _, lines, _ = pop.retr(1)
            finally:
                pop.quit()
            pop = poplib.POP3(*farm.address("pop"), timeout=10)
            try:
                pop.user("carol")
                pop.pass_("carol")
                self.assertEqual(pop.stat()[0], 0)  # refused at RCPT: nothing for carol
            finally:
                pop.quit()
        [accepted] = messages(farm.session("mail", 1))
        fetched = b"\r\n".join(lines) + b"\r\n"
        self.assertEqual(fetched, saved(farm, accepted))
        self.assertEqual(email.message_from_bytes(fetched)["Subject"], "round trip")
        self.assertIn(b"\r\n.a line that starts with a dot\r\n", fetched)


if __name__ == "__main__":
    unittest.main()
