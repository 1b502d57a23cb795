// Every error path of a whole session: each fake runs a full client conversation on an in-memory
// transport, once as is and then once for every read or write it does, with that operation (and
// all after it) failing as a reset connection would. Each run must end (no hang), leave a valid
// session document that says how it ended, and never crash.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>

#include "fakes/pop3/pop3_fake.hpp"
#include "fakes/smtp/smtp_fake.hpp"
#include "fakes/tcp/tcp_fake.hpp"
#include "tests/unit/fake_fixture.hpp"

namespace protofarm {
namespace {

struct Case {
  const char* protocol;
  FakeFactory (*factory)();
  const char* config;
  const char* client;      // the whole conversation the client sends
  const char* last_reply;  // what the undisturbed session ends with
};

const Case kCases[] = {
    {"smtp", smtp::factory,
     "protocol: smtp\nusers: {alice: secret}\nextensions: [PIPELINING, CHUNKING, AUTH, SIZE]\n"
     "rules:\n  - on: RCPT\n    match: blocked\n    reply: '550 5.1.1 no'\n",
     "EHLO c\r\nAUTH PLAIN AGFsaWNlAHNlY3JldA==\r\nMAIL FROM:<a@b.test>\r\n"
     "RCPT TO:<blocked@d.test>\r\nRCPT TO:<c@d.test>\r\nDATA\r\nSubject: t\r\n\r\n..x\r\n.\r\n"
     "MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\nBDAT 3 LAST\r\nabcRSET\r\nQUIT\r\n",
     "221 Bye\r\n"},
    {"pop3", pop3::factory,
     "protocol: pop3\napop_timestamp: \"<1.2@pop.test>\"\nmailboxes:\n  alice:\n    password: "
     "secret\n    messages:\n"
     "      - \"Subject: hi\\n\\n.dot\\n\"\n      - \"Subject: two\\n\\nbody\\n\"\n",
     "CAPA\r\nUSER alice\r\nPASS secret\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 2 0\r\n"
     "DELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n",
     "signing off"},
    {"tcp", tcp::factory,
     "protocol: tcp\nscript:\n  - send: \"220 hi\\r\\n\"\n  - expect: \"HELO (\\\\w+)\"\n"
     "  - send: \"250 ${1}\\r\\n\"\n  - pause: 1ms\n  - send: \"bye\\r\\n\"\necho: true\n",
     "HELO x\r\nline one\r\nline two\r\n", "line two\r\n"},
};

class SessionFaults : public FakeFixture, public ::testing::WithParamInterface<Case> {
 protected:
  SessionFaults()
      : FakeFixture(std::string("s") + GetParam().protocol, GetParam().protocol,
                    GetParam().factory()) {}
};

TEST_P(SessionFaults, EveryReadOrWriteMayFailAndTheTranscriptSurvives) {
  const Case& c = GetParam();
  ASSERT_EQ(load(c.config), "");
  std::size_t total = 0;
  const std::string whole = converse_in_memory(c.client, 0, &total);
  // Undisturbed, the conversation runs to its end.
  ASSERT_NE(whole.find(c.last_reply), std::string::npos) << whole;
  ASSERT_GT(total, 3u);
  int session = 1;
  {
    const auto doc = nlohmann::json::parse(session_doc(session));
    EXPECT_NE(doc["close"], "reset") << doc.dump();
  }
  for (std::size_t n = 1; n <= total; ++n) {
    SCOPED_TRACE("operation " + std::to_string(n) + " of " + std::to_string(total) + " fails");
    std::size_t ops = 0;
    const std::string out = converse_in_memory(c.client, n, &ops);
    ++session;
    // What the server sent before the failure is a prefix of the undisturbed conversation
    // (queue ids differ: they follow from the session's number).
    static const std::regex kQueueId("queued as [0-9A-F]+");
    const std::string same = std::regex_replace(out, kQueueId, "queued as ID");
    const std::string all = std::regex_replace(whole, kQueueId, "queued as ID");
    EXPECT_EQ(all.substr(0, same.size()), same);
    const std::string text = session_doc(session);
    ASSERT_FALSE(text.empty()) << "no session document";
    const auto doc = nlohmann::json::parse(text);  // throws (fails the test) if not JSON
    // The last operation is the lingering read after the server's own close: the session had
    // ended by then, and its close reason stands.
    if (n < total) {
      EXPECT_EQ(doc["close"], "reset") << doc.dump();
    }
    ASSERT_FALSE(doc["events"].empty());
    EXPECT_EQ(doc["events"].back()["event"], "close");
  }
}

INSTANTIATE_TEST_SUITE_P(AllStreamFakes, SessionFaults, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.protocol); });

// The memory transport itself: a client that goes away, and a server that waits for input.
TEST(MemoryTransport, ReadsWaitForInputAndSeeTheEnd) {
  asio::io_context io;
  MemoryPeer peer(io.get_executor());
  auto t = peer.server_end();
  ASSERT_TRUE(t);
  EXPECT_FALSE(peer.server_end());
  std::string got;
  error_code last;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        char buf[4];
        for (;;) {
          auto [ec, n] = co_await t->read_some(asio::buffer(buf));
          if (ec) {
            last = ec;
            break;
          }
          got.append(buf, n);
        }
        co_await t->write(asio::buffer(std::string_view("done")));
      },
      asio::detached);
  io.poll();
  EXPECT_EQ(got, "");  // waiting
  peer.send("hello");
  io.poll();
  EXPECT_EQ(got, "hello");
  peer.close();
  io.run();
  EXPECT_EQ(last, asio::error::eof);
  EXPECT_EQ(peer.received(), "done");
  t->close();
  EXPECT_TRUE(peer.server_closed());
}

}  // namespace
}  // namespace protofarm
