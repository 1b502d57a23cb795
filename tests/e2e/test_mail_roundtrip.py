"""scenarios/mail-roundtrip.yaml: a client sends with smtplib and fetches with poplib from one
farm. Mail the smtp fake accepts is delivered to the pop3 mailboxes of its recipients."""

import poplib
import smtplib
import unittest

from farm import SCENARIOS, Farm, named_events, run

MESSAGE = (b"From: carol@example.test\r\n"
           b"To: alice@example.test, robert@example.test\r\n"
           b"Subject: round trip\r\n"
           b"\r\n"
           b"Sent over SMTP,\r\n"
           b".fetched over POP3 (this line begins with a dot).\r\n")


def fetch_all(farm, user, password):
    p = poplib.POP3(farm.host("pop"), farm.port("pop"), timeout=10)
    p.user(user)
    p.pass_(password)
    count, _ = p.stat()
    messages = [b"\r\n".join(p.retr(i)[1]) + b"\r\n" for i in range(1, count + 1)]
    p.quit()
    return messages


class MailRoundTrip(unittest.TestCase):
    def test_validates(self):
        result = run("validate", SCENARIOS / "mail-roundtrip.yaml")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_send_with_smtp_then_fetch_with_pop3(self):
        with Farm(path=SCENARIOS / "mail-roundtrip.yaml") as farm:
            # Empty before anything was sent.
            self.assertEqual(fetch_all(farm, "alice", "secret"), [])
            with smtplib.SMTP(farm.host("mail"), farm.port("mail"), timeout=10) as smtp:
                refused = smtp.sendmail(
                    "carol@example.test",
                    ["alice@example.test", "Robert@Example.TEST", "stranger@elsewhere.test"],
                    MESSAGE)
                self.assertEqual(refused, {})
            self.assertEqual(fetch_all(farm, "alice", "secret"), [MESSAGE])
            self.assertEqual(fetch_all(farm, "bob", "hunter2"), [MESSAGE])
            self.assertEqual(fetch_all(farm, "postmaster", "postmaster"), [MESSAGE])

            # Fetch and delete: the next session finds the mailbox empty.
            p = poplib.POP3(farm.host("pop"), farm.port("pop"), timeout=10)
            p.user("alice")
            p.pass_("secret")
            p.dele(1)
            p.quit()
            self.assertEqual(fetch_all(farm, "alice", "secret"), [])

        deliveries = [e for e in farm.events() if e.get("event") == "delivery"]
        self.assertEqual(len(deliveries), 1)
        d = deliveries[0]
        self.assertEqual(d["server"], "pop")
        self.assertEqual(d["smtp_server"], "mail")
        self.assertEqual(d["mail_from"], "carol@example.test")
        self.assertEqual(d["mailboxes"], ["alice", "bob", "postmaster"])
        self.assertEqual(d["octets"], len(MESSAGE))
        # The POP3 transcript shows the delivered message going out.
        retr = [s for s in farm.sessions("pop") if any(
            e.get("command") == "RETR" for e in s["events"])]
        self.assertTrue(retr)
        login = named_events(retr[0], "login")[0]
        self.assertEqual(login["messages"], 1)
        self.assertIn("..fetched over POP3", "".join(
            e.get("text", "") for e in retr[0]["events"] if e.get("from") == "server"))


if __name__ == "__main__":
    unittest.main()
