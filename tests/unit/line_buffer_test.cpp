// Framed reading: LineBuffer fed one byte at a time, and LineReader over a real socket pair
// (limits, over-long lines, end of input).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "fakes/common/line_reader.hpp"

namespace protofarm {
namespace {

using namespace std::string_literals;

// Feeds `input` one byte at a time; after every byte, pops with `pop` as long as it gives
// frames. Returns the frames and what is left over.
template <typename Pop>
std::pair<std::vector<std::string>, std::string> feed_bytewise(const std::string& input, Pop pop) {
  LineBuffer buf;
  std::vector<std::string> frames;
  for (char c : input) {
    buf.append(std::string_view(&c, 1));
    while (auto frame = pop(buf)) frames.push_back(*frame);
  }
  return {frames, buf.take_all()};
}

TEST(LineBuffer, LinesEndAtLfAndKeepTheirTerminator) {
  const auto [lines, rest] =
      feed_bytewise("HELO a\r\nNOOP\nQUIT\r\npartial", [](LineBuffer& b) { return b.pop_line(); });
  EXPECT_EQ(lines, (std::vector<std::string>{"HELO a\r\n", "NOOP\n", "QUIT\r\n"}));
  EXPECT_EQ(rest, "partial");
}

TEST(LineBuffer, ALineIsPoppedExactlyWhenItsLfArrives) {
  LineBuffer buf;
  const std::string input = "ab\r\n";
  for (std::size_t i = 0; i + 1 < input.size(); ++i) {
    buf.append(input.substr(i, 1));
    EXPECT_EQ(buf.pop_line(), std::nullopt) << i;
    EXPECT_EQ(buf.size(), i + 1);
  }
  buf.append("\n");
  EXPECT_EQ(buf.pop_line(), "ab\r\n");
  EXPECT_TRUE(buf.empty());
}

TEST(LineBuffer, EmptyLinesAndBareCr) {
  const auto [lines, rest] =
      feed_bytewise("\n\r\na\rb\n", [](LineBuffer& b) { return b.pop_line(); });
  EXPECT_EQ(lines, (std::vector<std::string>{"\n", "\r\n", "a\rb\n"}));
  EXPECT_EQ(rest, "");
}

TEST(LineBuffer, BinaryBytesPassThrough) {
  const std::string input = "\x00\xff\x80\n\x01\n"s;
  const auto [lines, rest] = feed_bytewise(input, [](LineBuffer& b) { return b.pop_line(); });
  EXPECT_EQ(lines, (std::vector<std::string>{"\x00\xff\x80\n"s, "\x01\n"}));
}

TEST(LineBuffer, DelimitersMayBeLongAndSpanAppends) {
  const auto [frames, rest] = feed_bytewise("Subject: x\r\n\r\nbody\r\n.\r\nNEXT\r\n.\r\n.\r\n",
                                            [](LineBuffer& b) { return b.pop_until("\r\n.\r\n"); });
  EXPECT_EQ(frames, (std::vector<std::string>{"Subject: x\r\n\r\nbody\r\n.\r\n", "NEXT\r\n.\r\n"}));
  EXPECT_EQ(rest, ".\r\n");
}

TEST(LineBuffer, AnEmptyDelimiterNeverMatches) {
  LineBuffer buf;
  buf.append("abc");
  EXPECT_EQ(buf.pop_until(""), std::nullopt);
  EXPECT_EQ(buf.size(), 3u);
}

TEST(LineBuffer, ExactLengths) {
  const auto [frames, rest] =
      feed_bytewise("abcdefghij", [](LineBuffer& b) { return b.pop_exact(3); });
  EXPECT_EQ(frames, (std::vector<std::string>{"abc", "def", "ghi"}));
  EXPECT_EQ(rest, "j");
  LineBuffer buf;
  EXPECT_EQ(buf.pop_exact(0), "");
}

TEST(LineBuffer, PopSomeTakesWhatIsThere) {
  LineBuffer buf;
  EXPECT_EQ(buf.pop_some(10), "");
  buf.append("abcdef");
  EXPECT_EQ(buf.pop_some(4), "abcd");
  EXPECT_EQ(buf.pop_some(4), "ef");
  EXPECT_TRUE(buf.empty());
}

TEST(LineBuffer, PopAfterPartialDataFindsLaterLines) {
  // pop_line remembers how far it looked; other pops and appends must not make it skip an LF.
  LineBuffer buf;
  buf.append("abc");
  EXPECT_EQ(buf.pop_line(), std::nullopt);
  EXPECT_EQ(buf.pop_exact(2), "ab");
  buf.append("\nxy");
  EXPECT_EQ(buf.pop_line(), "c\n");
  EXPECT_EQ(buf.pop_line(), std::nullopt);
  EXPECT_EQ(buf.pop_some(1), "x");
  buf.append("z\n");
  EXPECT_EQ(buf.pop_line(), "yz\n");
  EXPECT_EQ(buf.pop_line(), std::nullopt);
  buf.append("no lf");
  EXPECT_EQ(buf.pop_line(), std::nullopt);
  EXPECT_EQ(buf.pop_until("lf"), "no lf");
  buf.append("q\n");
  EXPECT_EQ(buf.pop_line(), "q\n");
}

TEST(LineBuffer, PopLineAfterAnUnfinishedScanAndCompaction) {
  // Many consumed bytes make append() compact the buffer; the scan position must follow.
  LineBuffer buf;
  buf.append(std::string(100, 'a') + "\n" + "bbbb");
  EXPECT_EQ(buf.pop_line()->size(), 101u);
  EXPECT_EQ(buf.pop_line(), std::nullopt);  // scanned "bbbb"
  buf.append("\n");                         // compacts: the consumed line is dropped
  EXPECT_EQ(buf.pop_line(), "bbbb\n");
}

TEST(LineBuffer, ViewShowsWhatIsPending) {
  LineBuffer buf;
  buf.append("ab\ncd");
  buf.pop_line();
  EXPECT_EQ(buf.view(), "cd");
  EXPECT_EQ(buf.take_all(), "cd");
  EXPECT_EQ(buf.view(), "");
}

// --- LineReader over a socket pair ---------------------------------------------------------

// A Connection on one end of a socketpair; the test writes into the other end.
class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    StreamSocket sock(io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[0]);
    peer_.emplace(io_, asio::generic::stream_protocol(AF_UNIX, SOCK_STREAM), fds[1]);
    rec_ = std::make_unique<SessionRecorder>(sink_, "t", "tcp", 1, "unix:", "unix:");
    conn_ = std::make_unique<Connection>(std::move(sock), *rec_, nullptr, std::chrono::seconds(10));
  }

  // Sends `input` from the peer in pieces of `piece` bytes (each a separate write, the
  // reader given a chance to run between them), then closes the peer's sending side.
  void send(std::string input, std::size_t piece) {
    asio::co_spawn(
        io_,
        [this, input = std::move(input), piece]() -> Task<void> {
          for (std::size_t at = 0; at < input.size(); at += piece) {
            co_await asio::async_write(*peer_, asio::buffer(input.substr(at, piece)), use_tuple);
            co_await asio::post(io_, asio::use_awaitable);
          }
          error_code ec;
          peer_->shutdown(asio::socket_base::shutdown_send, ec);
        },
        asio::detached);
  }

  // Runs `body` against a LineReader until it finishes (bounded by a timer).
  void read(std::size_t max_line, std::function<Task<void>(LineReader&)> body) {
    bool done = false;
    asio::co_spawn(
        io_,
        [&]() -> Task<void> {
          LineReader reader(*conn_, max_line);
          co_await body(reader);
          done = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    // Until the body is done: the connection's idle watchdog keeps the context busy.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::milliseconds(100));
    EXPECT_TRUE(done) << "the reader did not finish";
  }

  asio::io_context io_;
  TranscriptSink sink_;
  std::optional<StreamSocket> peer_;
  std::unique_ptr<SessionRecorder> rec_;
  std::unique_ptr<Connection> conn_;
};

std::string status_name(FrameStatus s) {
  switch (s) {
    case FrameStatus::ok:
      return "ok";
    case FrameStatus::too_long:
      return "too_long";
    case FrameStatus::eof:
      return "eof";
    case FrameStatus::closed:
      return "closed";
  }
  return "?";
}

std::string show(const Frame& f) { return status_name(f.status) + ":" + f.bytes; }

// Over-long lines give the same frames however the bytes arrive.
class ReaderChunking : public ReaderTest, public ::testing::WithParamInterface<std::size_t> {};

TEST_P(ReaderChunking, OverLongLinesComeBackCutAndCanBeSkipped) {
  send("12345678901234\r\nOK\r\n123456\r\n1234567\r\ntail", GetParam());
  std::vector<std::string> got;
  read(8, [&](LineReader& r) -> Task<void> {
    Frame f = co_await r.read_line();
    got.push_back(show(f));  // too_long: the first 8 bytes
    got.push_back(show(co_await r.skip_line(1024)));
    got.push_back(show(co_await r.read_line()));
    got.push_back(show(co_await r.read_line()));  // exactly 8 bytes with CRLF: fits
    got.push_back(show(co_await r.read_line()));  // 9 bytes: too long by its LF
    got.push_back(show(co_await r.skip_line(1024)));
    got.push_back(show(co_await r.read_line()));  // eof with the partial line
  });
  EXPECT_EQ(got,
            (std::vector<std::string>{"too_long:12345678", "ok:901234\r\n", "ok:OK\r\n",
                                      "ok:123456\r\n", "too_long:1234567\r", "ok:\n", "eof:tail"}));
}

TEST_P(ReaderChunking, DelimitedAndFixedFrames) {
  send("a.b..ccc.dddd", GetParam());
  std::vector<std::string> got;
  read(64, [&](LineReader& r) -> Task<void> {
    got.push_back(show(co_await r.read_until("..", 64)));
    got.push_back(show(co_await r.read_exact(3)));
    got.push_back(show(co_await r.read_until(".", 64)));
    got.push_back(show(co_await r.read_exact(10)));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"ok:a.b..", "ok:ccc", "ok:.", "eof:dddd"}));
}

INSTANTIATE_TEST_SUITE_P(Pieces, ReaderChunking, ::testing::Values(1, 2, 3, 7, 1000));

TEST_F(ReaderTest, SkipLineGivesUpPastItsHardLimit) {
  send(std::string(5000, 'x') + "\nnext\n", 1000);
  std::vector<std::string> got;
  read(100, [&](LineReader& r) -> Task<void> {
    got.push_back(status_name((co_await r.read_line()).status));
    const Frame skipped = co_await r.skip_line(1000);
    got.push_back(status_name(skipped.status));
    EXPECT_GT(skipped.bytes.size(), 1000u);
  });
  EXPECT_EQ(got, (std::vector<std::string>{"too_long", "too_long"}));
}

TEST_F(ReaderTest, ReadChunkReturnsBufferedBytesFirst) {
  send("line\nrest of it", 1000);
  std::vector<std::string> got;
  read(100, [&](LineReader& r) -> Task<void> {
    got.push_back(show(co_await r.read_line()));
    EXPECT_TRUE(r.has_buffered());
    got.push_back(show(co_await r.read_chunk(4)));
    got.push_back(r.take_buffered());
    got.push_back(show(co_await r.read_chunk(100)));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"ok:line\n", "ok:rest", " of it", "eof:"}));
}

TEST_F(ReaderTest, EndOfInputWithALastLineWithoutLf) {
  send("one\ntwo", 1000);
  std::vector<std::string> got;
  read(100, [&](LineReader& r) -> Task<void> {
    got.push_back(show(co_await r.read_line()));
    got.push_back(show(co_await r.read_line()));
    got.push_back(show(co_await r.read_line()));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"ok:one\n", "eof:two", "closed:"}));
}

}  // namespace
}  // namespace protofarm

namespace protofarm {
namespace {

TEST(LineBufferUnread, BytesGivenBackComeFirstAndAreScannedForLines) {
  LineBuffer b;
  b.append("GET / HTTP/1.1\r\nHost: a\r\n\r\nNEXT\n");
  std::string taken = b.take_all();
  // Another parser used the first request and gives back the pipelined rest.
  b.unread(std::string_view(taken).substr(taken.find("NEXT")));
  EXPECT_EQ(b.pop_line(), "NEXT\n");
  EXPECT_TRUE(b.empty());
  b.append("tail\n");
  ASSERT_EQ(b.pop_some(2), "ta");  // start_ moves on: unread now fits in front
  b.unread("xy");
  EXPECT_EQ(b.view(), "xyil\n");
  b.unread("a longer piece than the room in front ");
  EXPECT_EQ(b.pop_line(), "a longer piece than the room in front xyil\n");
}

}  // namespace
}  // namespace protofarm
