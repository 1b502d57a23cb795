// The control API's parts that need no socket (docs/control-api.md): the hub (session summaries,
// the shared event buffer and its gaps, counters), the token check, address and query helpers,
// and what POST /api/reset undoes in each store.
#include <gtest/gtest.h>

#include <memory>

#include "controller/control/control_server.hpp"
#include "controller/control/hub.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/ftp/file_tree.hpp"
#include "fakes/nntp/article_store.hpp"
#include "fakes/pop3/mail_store.hpp"

namespace protofarm::control {
namespace {

SessionSummary summary(const std::string& server, std::uint64_t n) {
  SessionSummary s;
  s.server = server;
  s.protocol = "tcp";
  s.session = n;
  s.peer = "127.0.0.1:5000";
  s.local = "127.0.0.1:6000";
  s.started = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600 + n));
  return s;
}

// --- the hub ------------------------------------------------------------------------------------

TEST(ControlHub, NumbersSessionsAcrossTheFarmAndTracksOpenOnes) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  auto b = hub.opened(summary("b", 1));
  EXPECT_EQ(a->seq, 1u);
  EXPECT_EQ(b->seq, 2u);
  EXPECT_EQ(hub.last_seq(), 2u);
  EXPECT_EQ(hub.open_sessions("a"), 1u);
  a->bytes_from_client = 10;
  a->bytes_from_server = 20;
  EXPECT_EQ(hub.bytes("a"), (std::pair<std::uint64_t, std::uint64_t>{10, 20}));
  a->close = CloseReason::client;
  hub.closed(*a);
  EXPECT_EQ(hub.open_sessions("a"), 0u);
  EXPECT_EQ(hub.bytes("a"), (std::pair<std::uint64_t, std::uint64_t>{10, 20}));  // kept
  const Json j = Hub::to_json(*a);
  EXPECT_EQ(j["close"], "client");
  EXPECT_EQ(j["open"], false);
  EXPECT_EQ(Hub::to_json(*b)["ended"], nullptr);
  EXPECT_EQ(Hub::to_json(*b)["open"], true);
}

TEST(ControlHub, ListsSessionsByServerSinceASeqOrATime) {
  asio::io_context io;
  Hub hub(io, true);
  for (std::uint64_t n = 1; n <= 4; ++n) hub.opened(summary(n % 2 ? "a" : "b", n));
  auto seqs = [](const auto& list) {
    std::vector<std::uint64_t> out;
    for (const auto& s : list) out.push_back(s->seq);
    return out;
  };
  EXPECT_EQ(seqs(hub.sessions("", 0, std::nullopt, 100)), (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(seqs(hub.sessions("a", 0, std::nullopt, 100)), (std::vector<std::uint64_t>{1, 3}));
  EXPECT_EQ(seqs(hub.sessions("", 2, std::nullopt, 100)), (std::vector<std::uint64_t>{3, 4}));
  EXPECT_EQ(seqs(hub.sessions("", 0, std::nullopt, 2)), (std::vector<std::uint64_t>{3, 4}));
  const auto third = summary("x", 3).started;
  EXPECT_EQ(seqs(hub.sessions("", 0, third, 100)), (std::vector<std::uint64_t>{3, 4}));
  ASSERT_NE(hub.find("b", 2), nullptr);
  EXPECT_EQ(hub.find("b", 2)->seq, 2u);
  EXPECT_EQ(hub.find("b", 3), nullptr);
}

TEST(ControlHub, TakesEventsInSseFormFromACursor) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  auto b = hub.opened(summary("b", 1));
  hub.line(*a, R"({"server":"a","session":1,"event":"open"})");
  hub.line(*b, R"({"server":"b","session":1,"event":"open"})");
  hub.line(*a, R"({"server":"a","session":1,"event":"close"})");
  EXPECT_EQ(hub.events_total(), 3u);

  std::uint64_t cursor = 0;
  Hub::Batch all = hub.take(cursor, "", 1 << 20);
  EXPECT_EQ(all.missed, 0u);
  EXPECT_EQ(all.text(),
            "id: 1\ndata: {\"server\":\"a\",\"session\":1,\"event\":\"open\"}\n\n"
            "id: 2\ndata: {\"server\":\"b\",\"session\":1,\"event\":\"open\"}\n\n"
            "id: 3\ndata: {\"server\":\"a\",\"session\":1,\"event\":\"close\"}\n\n");
  EXPECT_EQ(cursor, 3u);
  EXPECT_EQ(hub.take(cursor, "", 1 << 20).text(), "");  // nothing new

  cursor = 1;  // resuming after id 1, one server only: its ids, the others skipped
  Hub::Batch only_a = hub.take(cursor, "a", 1 << 20);
  EXPECT_EQ(only_a.text(), "id: 3\ndata: {\"server\":\"a\",\"session\":1,\"event\":\"close\"}\n\n");
  EXPECT_EQ(cursor, 3u);
}

TEST(ControlHub, ABatchStopsNearItsSizeAndGoesOnFromThere) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  for (int i = 0; i < 10; ++i) hub.line(*a, std::string(100, 'x'));
  std::uint64_t cursor = 0;
  const Hub::Batch first = hub.take(cursor, "", 250);  // an event is 114 bytes in SSE form
  EXPECT_EQ(cursor, 3u);                               // the third passes 250
  EXPECT_NE(first.text().find("id: 3\n"), std::string::npos);
  const Hub::Batch rest = hub.take(cursor, "", 1 << 20);
  EXPECT_EQ(cursor, 10u);
  EXPECT_EQ(rest.text().rfind("id: 4\n", 0), 0u);
  EXPECT_EQ(rest.text().find("id: 3\n"), std::string::npos);
}

TEST(ControlHub, OldEventsGoAndAClientThatFellBehindIsToldHowMany) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  const std::string big(Hub::kMaxEventBytes / 4, 'x');
  for (int i = 0; i < 8; ++i) hub.line(*a, big);  // the buffer holds fewer than 4 of them
  std::uint64_t cursor = 0;
  const Hub::Batch batch = hub.take(cursor, "", 1);
  EXPECT_GE(batch.missed, 5u);
  EXPECT_LE(batch.missed, 7u);
  EXPECT_EQ(batch.text().rfind("id: " + std::to_string(batch.missed + 1) + "\n", 0), 0u);
}

TEST(ControlHub, WithoutTranscriptsItMakesTheOpenAndCloseEvents) {
  asio::io_context io;
  Hub hub(io, false);
  auto a = hub.opened(summary("a", 1));
  a->close = CloseReason::timeout;
  a->ended = a->started + std::chrono::milliseconds(1500);
  hub.closed(*a);
  std::uint64_t cursor = 0;
  const std::string text = hub.take(cursor, "", 1 << 20).text();
  EXPECT_NE(
      text.find(R"("server":"a","session":1,"t_ms":0.0,"event":"open","peer":"127.0.0.1:5000")"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("t_ms":1500.0,"event":"close","close":"timeout")"), std::string::npos)
      << text;
}

TEST(ControlHub, ClientsAtOnePositionShareOneBatch) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  hub.line(*a, "{}");
  hub.line(*a, "{}");
  std::uint64_t one = 0, two = 0;
  const Hub::Batch first = hub.take(one, "", 1 << 20);
  const Hub::Batch second = hub.take(two, "", 1 << 20);
  EXPECT_EQ(first.data, second.data);  // the same text, formatted once
  EXPECT_EQ(two, 2u);
  hub.line(*a, "{}");  // a client that comes later gets what is new since its position
  std::uint64_t three = 0;
  EXPECT_EQ(hub.take(three, "", 1 << 20).data, first.data);  // the cached batch still fits
  EXPECT_EQ(three, 2u);
  EXPECT_EQ(hub.take(three, "", 1 << 20).text(), "id: 3\ndata: {}\n\n");
}

TEST(ControlHub, CountsFaultsByKind) {
  asio::io_context io;
  Hub hub(io, true);
  auto a = hub.opened(summary("a", 1));
  hub.fault(*a, "reset_after");
  hub.fault(*a, "reset_after");
  hub.fault(*a, "refuse");
  EXPECT_EQ(hub.faults("a").at("reset_after"), 2u);
  EXPECT_EQ(hub.faults("a").at("refuse"), 1u);
  EXPECT_TRUE(hub.faults("b").empty());
}

TEST(ControlHub, AWaitingClientIsWokenOnceForABurst) {
  asio::io_context io;
  Hub hub(io, true);
  asio::steady_timer timer(io);
  timer.expires_after(std::chrono::hours(1));
  int woken = 0;
  hub.add_waiter(&timer);
  timer.async_wait([&](const error_code& ec) {
    if (ec == asio::error::operation_aborted) ++woken;
  });
  auto a = hub.opened(summary("a", 1));
  hub.line(*a, "{}");
  hub.line(*a, "{}");
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(woken, 1);
}

// --- helpers ------------------------------------------------------------------------------------

TEST(ControlHelpers, TheTokenMustMatchExactly) {
  EXPECT_TRUE(token_matches("Bearer s3cret", "s3cret"));
  EXPECT_TRUE(token_matches("bearer s3cret", "s3cret"));
  EXPECT_FALSE(token_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(token_matches("Bearer s3crett", "s3cret"));
  EXPECT_FALSE(token_matches("s3cret", "s3cret"));
  EXPECT_FALSE(token_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(token_matches("", "s3cret"));
  EXPECT_FALSE(token_matches("Bearer ", ""));
}

TEST(ControlHelpers, LoopbackAddresses) {
  EXPECT_TRUE(is_loopback("127.0.0.1"));
  EXPECT_TRUE(is_loopback("127.8.9.10"));
  EXPECT_TRUE(is_loopback("::1"));
  EXPECT_TRUE(is_loopback("localhost"));
  EXPECT_FALSE(is_loopback("0.0.0.0"));
  EXPECT_FALSE(is_loopback("::"));
  EXPECT_FALSE(is_loopback("10.0.0.1"));
  EXPECT_FALSE(is_loopback("example.test"));
}

TEST(ControlHelpers, PercentDecoding) {
  EXPECT_EQ(percent_decode("a%20b+c"), "a b c");
  EXPECT_EQ(percent_decode("%2Fx%2f"), "/x/");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz%4"), "%zz%4");
}

// --- what a reset undoes ------------------------------------------------------------------------

TEST(ControlReset, RuleCountersAndStatesGoBackToTheStart) {
  auto states = std::make_shared<StateStore>();
  states->set_initial("mode", "normal");
  Rule once;
  once.name = "once";
  once.on = "RCPT";
  once.times = 1;
  RuleEngine engine({once}, states);
  EXPECT_TRUE(engine.match("RCPT", "x"));
  EXPECT_FALSE(engine.match("RCPT", "x"));
  EXPECT_EQ(engine.hits(0), 1u);
  states->set("mode", "broken");
  states->set("other", "1");
  engine.reset_counters();
  states->reset();
  EXPECT_EQ(engine.hits(0), 0u);
  EXPECT_TRUE(engine.match("RCPT", "x"));
  EXPECT_EQ(states->get("mode"), "normal");
  EXPECT_EQ(states->get("other"), "");
}

TEST(ControlReset, Pop3MailboxesGetTheirMessagesBackAndLoseDeliveries) {
  pop3::MailStore store(1);
  pop3::Mailbox box;
  box.user = "alice";
  box.addresses = {"alice@example.test"};
  pop3::Mailbox& alice = store.add_mailbox(box);
  store.append(alice, "Subject: one\r\n\r\nx\r\n", "", "scenario");
  store.mark_start();
  pop3::Mailbox& a = *store.find("alice");
  store.remove(a, {a.messages.front().get()});
  store.deliver({"alice@example.test"}, "Subject: new\r\n\r\ny\r\n", "smtp:mail/1");
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_EQ(a.messages.front()->origin, "smtp:mail/1");
  store.reset();
  ASSERT_EQ(a.messages.size(), 1u);
  EXPECT_EQ(a.messages.front()->origin, "scenario");
}

TEST(ControlReset, NntpPostedArticlesGo) {
  const nntp::TimePoint clock{std::chrono::seconds(1767225600)};
  nntp::ArticleStore store(7, clock);
  nntp::Group& g = store.add_group("misc.test");
  nntp::Article a;
  a.add("From", "a@example.test");
  a.add("Newsgroups", "misc.test");
  a.add("Subject", "hi");
  a.add("Message-ID", "<1@test>");
  ASSERT_EQ(store.place(g, 1, a, "scenario"), "");
  store.mark_start();
  nntp::Article posted = a;
  store.add_posted(posted, "<2@test>", {&g}, clock, "post:1");
  EXPECT_EQ(g.high(), 2u);
  EXPECT_TRUE(store.has_message_id("<2@test>"));
  store.reset();
  EXPECT_EQ(store.find("misc.test"), &g);  // the same group: pointers stay valid
  EXPECT_EQ(g.high(), 1u);
  EXPECT_FALSE(store.has_message_id("<2@test>"));
  EXPECT_TRUE(store.has_message_id("<1@test>"));
}

TEST(ControlReset, FtpUploadsAndChangesAreUndone) {
  const ftp::TimePoint clock{std::chrono::seconds(1767225600)};
  ftp::FileTree tree(clock);
  Content hello;
  hello.bytes = std::make_shared<const std::string>("hello");
  tree.put_file("/pub/a.txt", hello);
  tree.mark_start();
  const std::size_t entries = tree.entries();
  Content up;
  up.bytes = std::make_shared<const std::string>("uploaded");
  tree.put_file("/incoming/b.txt", up);
  tree.remove("/pub/a.txt");
  tree.reset();
  EXPECT_EQ(tree.entries(), entries);
  ASSERT_NE(tree.find("/pub/a.txt"), nullptr);
  EXPECT_EQ(*tree.find("/pub/a.txt")->content.bytes, "hello");
  EXPECT_EQ(tree.find("/incoming/b.txt"), nullptr);
  EXPECT_EQ(tree.find("/incoming"), nullptr);
  tree.put_file("/incoming/c.txt", up);  // and the tree works on after a reset
  EXPECT_NE(tree.find("/incoming/c.txt"), nullptr);
}

}  // namespace
}  // namespace protofarm::control
