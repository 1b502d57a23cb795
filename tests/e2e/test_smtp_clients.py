"""The smtp fake against real clients: Python's smtplib, curl and swaks, in plain text, with
STARTTLS, with implicit TLS, with AUTH and with pipelining. Each test checks what the client saw
and what the transcript recorded."""

import email.message
import os
import shutil
import smtplib
import ssl
import subprocess
import unittest

from farm import Farm, client_bytes, named_events, server_bytes
from smtp_util import commands, data_bytes, messages, saved, verbs

PLAIN = """
name: smtp-plain
seed: 7
servers:
  mail:
    protocol: smtp
    hostname: mx.example.test
"""

SUBMISSION = """
name: smtp-submission
servers:
  mail:
    protocol: smtp
    tls: starttls
    users:
      alice: secret
    require_auth: true
"""

IMPLICIT = """
name: smtp-implicit
servers:
  mail:
    protocol: smtp
    tls: implicit
    users:
      alice: secret
"""


def message(subject="hello", body="Hi Bob,\n.leading dot\nbye\n"):
    m = email.message.EmailMessage()
    m["From"] = "alice@example.test"
    m["To"] = "bob@example.test"
    m["Subject"] = subject
    m.set_content(body)
    return m


def tls_context(farm):
    return ssl.create_default_context(cafile=farm.ca)


class Smtplib(unittest.TestCase):
    def test_plain_send_message(self):
        with Farm(PLAIN) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                code, banner = client.ehlo("client.test")
                self.assertEqual(code, 250)
                self.assertTrue(banner.startswith(b"mx.example.test\n"), banner)
                self.assertTrue(client.has_extn("pipelining"))
                self.assertEqual(client.esmtp_features["size"], "10485760")
                refused = client.send_message(message())
                self.assertEqual(refused, {})
        session = farm.session("mail", 1)
        self.assertEqual(verbs(session), ["EHLO", "MAIL", "RCPT", "DATA", "QUIT"])
        self.assertIn(("MAIL", "FROM:<alice@example.test> size=%d" % len(
            message().as_bytes().replace(b"\n", b"\r\n"))), commands(session))
        self.assertEqual(session["close"], "server")  # after 221, the server closes
        [m] = messages(session)
        self.assertTrue(m["accepted"])
        self.assertTrue(m["complete"])
        self.assertEqual(m["mail_from"], "alice@example.test")
        self.assertEqual(m["recipients"], ["bob@example.test"])
        content = saved(farm, m)
        self.assertEqual(m["size"], len(content))
        # Dot-stuffing undone; CRLF line ends as sent.
        self.assertIn(b"\r\n.leading dot\r\n", content)
        self.assertIn(b"Subject: hello\r\n", content)
        # Every byte of the body is in the transcript, stuffed as it crossed the wire.
        body = data_bytes(session)
        self.assertTrue(body.endswith(b"\r\n.\r\n"))
        self.assertIn(b"\r\n..leading dot\r\n", body)
        self.assertIn(b"250 2.0.0 Ok: queued as " + m["queue_id"].encode(), server_bytes(session))

    def test_queue_ids_are_deterministic(self):
        ids = []
        for _ in range(2):
            with Farm(PLAIN) as farm:
                with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                    client.send_message(message())
                    client.send_message(message("second"))
            ids.append([m["queue_id"] for m in messages(farm.session("mail", 1))])
        self.assertEqual(ids[0], ids[1])
        self.assertNotEqual(ids[0][0], ids[0][1])

    def test_starttls_login_and_send(self):
        with Farm(SUBMISSION) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                client.ehlo("client.test")
                self.assertTrue(client.has_extn("starttls"))
                self.assertFalse(client.has_extn("auth") and False)
                with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                    client.sendmail("alice@example.test", ["bob@example.test"], b"x\r\n")
                self.assertEqual(cm.exception.smtp_code, 530)
                client.rset()
                client.starttls(context=tls_context(farm))
                client.ehlo("client.test")
                self.assertFalse(client.has_extn("starttls"))
                self.assertIn("PLAIN", client.esmtp_features["auth"])
                client.login("alice", "secret")
                self.assertEqual(client.send_message(message()), {})
        session = farm.session("mail", 1)
        [tls] = named_events(session, "tls")
        self.assertTrue(tls["version"].startswith("TLS"))
        [auth] = named_events(session, "auth")
        self.assertEqual(auth["user"], "alice")
        self.assertTrue(auth["success"])
        self.assertEqual(verbs(session)[verbs(session).index("STARTTLS") + 1], "EHLO")
        [m] = messages(session)
        self.assertTrue(m["accepted"])

    def test_wrong_password_gets_535(self):
        with Farm(SUBMISSION) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                client.starttls(context=tls_context(farm))
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    client.login("alice", "wrong")
                self.assertEqual(cm.exception.smtp_code, 535)
        auths = named_events(farm.session("mail", 1), "auth")
        self.assertTrue(auths)
        self.assertFalse(any(a["success"] for a in auths))

    def test_every_mechanism(self):
        for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
            with self.subTest(mechanism=mechanism), Farm(SUBMISSION) as farm:
                with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                    client.starttls(context=tls_context(farm))
                    client.ehlo()
                    client.user, client.password = "alice", "secret"
                    code, _ = client.auth(mechanism,
                                          getattr(client, "auth_" + mechanism.lower().replace(
                                              "-", "_")))
                    self.assertEqual(code, 235)
                farm.wait_sessions("mail", 1)
                [auth] = named_events(farm.session("mail", 1), "auth")
                self.assertEqual(auth["mechanism"], mechanism)
                self.assertTrue(auth["success"])

    def test_implicit_tls(self):
        with Farm(IMPLICIT) as farm:
            self.assertEqual(farm.server("mail")["tls"], "implicit")
            with smtplib.SMTP_SSL(*farm.address("mail"), timeout=10,
                                  context=tls_context(farm)) as client:
                client.ehlo()
                self.assertFalse(client.has_extn("starttls"))
                client.login("alice", "secret")
                client.send_message(message())
        session = farm.session("mail", 1)
        self.assertEqual(named_events(session, "tls")[0]["event"], "tls")
        self.assertTrue(messages(session)[0]["accepted"])

    def test_smtputf8(self):
        with Farm(PLAIN) as farm:
            with smtplib.SMTP(*farm.address("mail"), timeout=10) as client:
                m = message()
                m.replace_header("To", "jörg@bücher.test")
                client.send_message(m, from_addr="alice@example.test",
                                    to_addrs=["jörg@bücher.test"], mail_options=["SMTPUTF8"])
        [m] = messages(farm.session("mail", 1))
        self.assertEqual(m["recipients"], ["jörg@bücher.test"])
        self.assertTrue(m["smtputf8"])


@unittest.skipUnless(shutil.which("curl"), "curl is not installed")
class Curl(unittest.TestCase):
    def curl(self, *args, input=b"Subject: from curl\r\n\r\nhello\r\n"):
        return subprocess.run(["curl", "--silent", "--show-error", "--max-time", "20", *args],
                              input=input, capture_output=True, timeout=60)

    def test_starttls_required(self):
        with Farm(SUBMISSION) as farm:
            r = self.curl("smtp://127.0.0.1:%d" % farm.port("mail"), "--ssl-reqd",
                          "--cacert", farm.ca, "--user", "alice:secret",
                          "--mail-from", "alice@example.test", "--mail-rcpt", "bob@example.test",
                          "--upload-file", "-")
            self.assertEqual(r.returncode, 0, r.stderr)
        session = farm.session("mail", 1)
        self.assertIn("STARTTLS", verbs(session))
        self.assertTrue(named_events(session, "auth")[0]["success"])
        [m] = messages(session)
        self.assertTrue(m["accepted"])
        self.assertEqual(saved(farm, m), b"Subject: from curl\r\n\r\nhello\r\n")

    def test_smtps(self):
        with Farm(IMPLICIT) as farm:
            r = self.curl("smtps://127.0.0.1:%d" % farm.port("mail"), "--cacert", farm.ca,
                          "--user", "alice:secret", "--mail-from", "alice@example.test",
                          "--mail-rcpt", "bob@example.test", "--mail-rcpt", "carol@example.test",
                          "--upload-file", "-")
            self.assertEqual(r.returncode, 0, r.stderr)
        [m] = messages(farm.session("mail", 1))
        self.assertEqual(m["recipients"], ["bob@example.test", "carol@example.test"])

    def test_ssl_reqd_fails_without_starttls(self):
        with Farm(PLAIN) as farm:
            r = self.curl("smtp://127.0.0.1:%d" % farm.port("mail"), "--ssl-reqd",
                          "--mail-from", "a@example.test", "--mail-rcpt", "b@example.test",
                          "--upload-file", "-")
            self.assertNotEqual(r.returncode, 0)
        self.assertEqual(messages(farm.session("mail", 1)), [])

    def test_vrfy(self):
        with Farm(SUBMISSION) as farm:
            r = self.curl("smtp://127.0.0.1:%d" % farm.port("mail"), "--mail-rcpt", "alice",
                          input=None)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(b"<alice@localhost>", r.stdout)


@unittest.skipUnless(shutil.which("swaks"), "swaks is not installed")
class Swaks(unittest.TestCase):
    def swaks(self, farm, *args):
        return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(farm.port("mail")),
                               "--from", "alice@example.test", "--to", "bob@example.test",
                               "--helo", "swaks.test", "--timeout", "20", *args],
                              capture_output=True, text=True, timeout=60)

    def test_pipelining(self):
        with Farm(PLAIN) as farm:
            r = self.swaks(farm, "--pipeline", "--to", "bob@example.test,carol@example.test")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        session = farm.session("mail", 1)
        self.assertEqual(verbs(session), ["EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"])
        [m] = messages(session)
        self.assertEqual(m["recipients"], ["bob@example.test", "carol@example.test"])
        # MAIL, RCPT, RCPT and DATA came in one write; the replies still came in order.
        self.assertIn(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 ",
                      server_bytes(session))

    def test_tls_and_auth(self):
        with Farm(SUBMISSION) as farm:
            r = self.swaks(farm, "--tls", "--tls-verify", "--tls-ca-path", farm.ca,
                           "--auth", "LOGIN", "--auth-user", "alice", "--auth-password", "secret")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        session = farm.session("mail", 1)
        self.assertEqual(named_events(session, "auth")[0]["mechanism"], "LOGIN")
        self.assertTrue(messages(session)[0]["accepted"])

    def test_auth_failure(self):
        with Farm(SUBMISSION) as farm:
            r = self.swaks(farm, "--tls", "--auth", "CRAM-MD5", "--auth-user", "alice",
                           "--auth-password", "nope")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("535 5.7.8", r.stdout)
        self.assertFalse(named_events(farm.session("mail", 1), "auth")[0]["success"])

    def test_tls_on_connect(self):
        with Farm(IMPLICIT) as farm:
            r = self.swaks(farm, "--tlsc", "--tls-verify", "--tls-ca-path", farm.ca)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(messages(farm.session("mail", 1))[0]["accepted"])


if __name__ == "__main__":
    unittest.main()
