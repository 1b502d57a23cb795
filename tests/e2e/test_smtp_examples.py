"""The smtp example scenarios (scenarios/greylisting.yaml and scenarios/smtp-*.yaml), each run
with a real client: what the client saw, and what the transcript recorded."""

import email.message
import smtplib
import socket
import ssl
import unittest

from farm import SCENARIOS, Farm, client_bytes, named_events, run, server_bytes
from smtp_util import Raw, messages, saved, verbs

EXAMPLES = ["greylisting.yaml", "smtp-busy.yaml", "smtp-reject-recipient.yaml",
            "smtp-content-rejected.yaml", "smtp-starttls-unavailable.yaml",
            "smtp-auth-failure.yaml", "smtp-slow-greeting.yaml", "smtp-reset-in-data.yaml"]


def message(body="Hello Bob.\n"):
    m = email.message.EmailMessage()
    m["From"] = "alice@example.test"
    m["To"] = "bob@example.test"
    m["Subject"] = "example"
    m.set_content(body)
    return m


class Validate(unittest.TestCase):
    def test_every_example_validates(self):
        for name in EXAMPLES:
            with self.subTest(name):
                result = run("validate", SCENARIOS / name)
                self.assertEqual(result.returncode, 0, result.stderr)


class Greylisting(unittest.TestCase):
    def test_451_once_then_accepted_and_verified(self):
        path = SCENARIOS / "greylisting.yaml"
        with Farm(path=path) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    client.send_message(message())
                self.assertEqual(cm.exception.smtp_code, 451)
                self.assertEqual(cm.exception.smtp_error, b"4.7.1 greylisted, try again later")
            # The client comes back, as a greylisted one must.
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                self.assertEqual(client.send_message(message()), {})
            farm.wait_sessions("mail", 2)
        first, second = farm.session("mail", 1), farm.session("mail", 2)
        self.assertEqual(len(named_events(first, "rule")), 1)
        self.assertIn(b"451 4.7.1 greylisted, try again later\r\n", server_bytes(first))
        self.assertEqual(messages(first), [])
        self.assertEqual(named_events(second, "rule"), [])
        [m] = messages(second)
        self.assertTrue(m["accepted"])
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_verify_fails_when_the_client_never_comes_back(self):
        path = SCENARIOS / "greylisting.yaml"
        with Farm(path=path) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                with self.assertRaises(smtplib.SMTPDataError):
                    client.send_message(message())
            farm.wait_sessions("mail", 1)
        result = run("verify", path, "--transcripts", farm.transcripts)
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)


class Busy(unittest.TestCase):
    def test_421_at_the_greeting_then_close(self):
        with Farm(path=SCENARIOS / "smtp-busy.yaml") as farm:
            with self.assertRaises(smtplib.SMTPConnectError) as cm:
                smtplib.SMTP(*farm.address("mail"), timeout=10)
            self.assertEqual(cm.exception.smtp_code, 421)
            farm.wait_sessions("mail", 1)
        session = farm.session("mail", 1)
        self.assertEqual(server_bytes(session),
                         b"421 4.3.2 mx.example.test too busy, try again later\r\n")
        self.assertEqual(session["close"], "server")


class RejectRecipient(unittest.TestCase):
    def test_one_recipient_refused(self):
        with Farm(path=SCENARIOS / "smtp-reject-recipient.yaml") as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                refused = client.sendmail("alice@example.test",
                                          ["bob@example.test", "eve@blocked.test",
                                           "carol@example.test"],
                                          message().as_bytes())
            self.assertEqual(list(refused), ["eve@blocked.test"])
            self.assertEqual(refused["eve@blocked.test"][0], 550)
            self.assertEqual(refused["eve@blocked.test"][1],
                             b"5.1.1 <eve@blocked.test>: Recipient address rejected")
        session = farm.session("mail", 1)
        [rule] = named_events(session, "rule")
        self.assertEqual(rule["rule"], "blocked-domain")
        [m] = messages(session)
        self.assertEqual(m["recipients"], ["bob@example.test", "carol@example.test"])


class ContentRejected(unittest.TestCase):
    def test_554_after_the_body_then_a_clean_message(self):
        with Farm(path=SCENARIOS / "smtp-content-rejected.yaml") as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                with self.assertRaises(smtplib.SMTPDataError) as cm:
                    client.send_message(message(
                        "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"))
                self.assertEqual(cm.exception.smtp_code, 554)
                self.assertEqual(client.send_message(message()), {})
        rejected, accepted = messages(farm.session("mail", 1))
        self.assertFalse(rejected["accepted"])
        self.assertEqual(rejected["reply"], 554)
        self.assertIn(b"EICAR-STANDARD", saved(farm, rejected, "rejected_file"))
        self.assertTrue(accepted["accepted"])
        self.assertIn(b"Hello Bob.", saved(farm, accepted))


class StarttlsUnavailable(unittest.TestCase):
    def test_454(self):
        with Farm(path=SCENARIOS / "smtp-starttls-unavailable.yaml") as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                client.ehlo()
                self.assertTrue(client.has_extn("starttls"))
                with self.assertRaises(smtplib.SMTPResponseException) as cm:
                    client.starttls(context=ssl.create_default_context(cafile=farm.ca))
                self.assertEqual(cm.exception.smtp_code, 454)
                # Still plain text, still usable.
                self.assertEqual(client.noop()[0], 250)
        session = farm.session("mail", 1)
        self.assertEqual(named_events(session, "tls"), [])
        self.assertEqual(len(named_events(session, "rule")), 1)


class AuthFailure(unittest.TestCase):
    def test_530_then_535_then_235(self):
        with Farm(path=SCENARIOS / "smtp-auth-failure.yaml") as farm:
            with smtplib.SMTP(*farm.address("submission"), timeout=10) as client:
                code, banner = client.ehlo()
                self.assertTrue(banner.startswith(b"submission.example.test\n"))
                with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                    client.send_message(message())
                self.assertEqual(cm.exception.smtp_code, 530)
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    client.login("alice", "wrong")
                self.assertEqual(cm.exception.smtp_code, 535)
                client.login("alice", "secret")
                self.assertEqual(client.send_message(message()), {})
        auths = named_events(farm.session("submission", 1), "auth")
        self.assertEqual([a["success"] for a in auths][-1], True)
        self.assertIn(False, [a["success"] for a in auths])


class SlowGreeting(unittest.TestCase):
    def test_greeting_one_byte_per_write(self):
        with Farm(path=SCENARIOS / "smtp-slow-greeting.yaml") as farm:
            with Raw(farm.address("mail")) as raw:
                self.assertEqual(raw.reply(), b"220 localhost ESMTP protofarm\r\n")
                self.assertEqual(raw.cmd(b"QUIT"), b"221 2.0.0 Bye\r\n")
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                self.assertEqual(client.send_message(message()), {})
            farm.wait_sessions("mail", 2)
        session = farm.session("mail", 1)
        pieces = [e["text"] for e in session["events"] if e.get("from") == "server"]
        greeting = "220 localhost ESMTP protofarm\r\n"
        self.assertEqual(pieces[:len(greeting)], list(greeting))
        self.assertEqual(pieces[len(greeting)], "221 2.0.0 Bye\r\n")


class ResetInData(unittest.TestCase):
    def test_reset_after_354(self):
        with Farm(path=SCENARIOS / "smtp-reset-in-data.yaml") as farm:
            client = smtplib.SMTP(*farm.address("mail"), timeout=10)
            with self.assertRaises((smtplib.SMTPServerDisconnected, ConnectionResetError,
                                    BrokenPipeError)):
                client.send_message(message("x" * 100000 + "\n"))
            client.close()
            farm.wait_sessions("mail", 1)
        session = farm.session("mail", 1)
        self.assertEqual(session["close"], "reset")
        self.assertTrue(server_bytes(session).endswith(b"354 End data with <CR><LF>.<CR><LF>\r\n"))
        self.assertEqual(messages(session), [])


if __name__ == "__main__":
    unittest.main()
