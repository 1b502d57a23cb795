// The http fake's codec, byte by byte: the request parser (heads, bodies, pipelining, every limit
// and refusal of the header comment, each also fed one byte at a time), response heads through
// Beast's serializer, chunked framing and the error page.
#include <gtest/gtest.h>

#include "fakes/http/http_codec.hpp"

namespace protofarm::http {

// For gtest's messages (found by argument-dependent lookup, so outside the unnamed namespace).
static void PrintTo(RequestParser::State s, std::ostream* os) {
  constexpr const char* kNames[] = {"need_head", "need_body", "done", "error"};
  *os << kNames[static_cast<int>(s)];
}

namespace {

using namespace std::string_literals;
using State = RequestParser::State;

// Feeds a whole request at once, then goes on with what is buffered, as a session does once it
// has decided about the body.
State parse_all(RequestParser& p, std::string_view bytes) {
  State s = p.feed(bytes);
  if (s == State::need_body) s = p.feed("");
  return s;
}

State parse_bytewise(RequestParser& p, std::string_view bytes) {
  State s = p.state();
  for (const char c : bytes) {
    s = p.feed(std::string_view(&c, 1));
    if (s == State::error) break;
  }
  return s;
}

// The bytes are refused with `status`, both fed at once and fed one byte at a time.
::testing::AssertionResult refused_with(unsigned status, std::string_view bytes,
                                        const Limits& limits = {}) {
  for (const bool bytewise : {false, true}) {
    const char* how = bytewise ? "byte by byte" : "at once";
    RequestParser p{limits};
    const State s = bytewise ? parse_bytewise(p, bytes) : parse_all(p, bytes);
    if (s != State::error)
      return ::testing::AssertionFailure() << how << ": not refused, state " << static_cast<int>(s);
    if (p.error().status != status)
      return ::testing::AssertionFailure() << how << ": refused with " << p.error().status << " ("
                                           << p.error().detail << "), not " << status;
    if (p.error().detail.empty())
      return ::testing::AssertionFailure() << how << ": refused without a detail";
  }
  return ::testing::AssertionSuccess();
}

// The bytes are one whole request, both fed at once and fed one byte at a time.
::testing::AssertionResult accepted(std::string_view bytes, const Limits& limits = {}) {
  for (const bool bytewise : {false, true}) {
    const char* how = bytewise ? "byte by byte" : "at once";
    RequestParser p{limits};
    const State s = bytewise ? parse_bytewise(p, bytes) : parse_all(p, bytes);
    if (s != State::done) {
      auto failure = ::testing::AssertionFailure()
                     << how << ": state " << ::testing::PrintToString(s);
      if (s == State::error) failure << " " << p.error().status << " (" << p.error().detail << ")";
      return failure;
    }
    if (p.head_bytes() + p.body_bytes() != bytes)
      return ::testing::AssertionFailure() << how << ": head_bytes + body_bytes differ";
  }
  return ::testing::AssertionSuccess();
}

// A request line of exactly n bytes, CRLF included.
std::string request_line_of(std::size_t n) {
  return "GET /" + std::string(n - 16, 'a') + " HTTP/1.1\r\n";
}

// --- heads -------------------------------------------------------------------------------------

TEST(HttpRequestParser, ParsesASimpleGet) {
  const std::string req =
      "GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example.test\r\nUser-Agent: t/1\r\n\r\n";
  RequestParser p{Limits{}};
  EXPECT_EQ(p.state(), State::need_head);
  EXPECT_FALSE(p.head_done());
  EXPECT_EQ(p.feed(req), State::done);
  EXPECT_EQ(p.state(), State::done);
  EXPECT_TRUE(p.head_done());
  const RequestHead& h = p.head();
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/index.html?a=1&b=2");
  EXPECT_EQ(h.version, 11u);
  EXPECT_EQ(h.version_text(), "HTTP/1.1");
  EXPECT_EQ(h.headers, (Headers{{"Host", "example.test"}, {"User-Agent", "t/1"}}));
  EXPECT_EQ(h.header("host"), "example.test");
  EXPECT_TRUE(h.keep_alive);
  EXPECT_FALSE(h.chunked);
  EXPECT_EQ(h.content_length, std::nullopt);
  EXPECT_FALSE(h.expect_continue);
  EXPECT_FALSE(h.has_body());
  EXPECT_EQ(h.path, "/index.html");
  EXPECT_EQ(h.query, "a=1&b=2");
  EXPECT_EQ(p.head_bytes(), req);
  EXPECT_EQ(p.body_bytes(), "");
  EXPECT_EQ(p.body(), "");
  EXPECT_EQ(p.pending(), "");
  EXPECT_EQ(p.take_leftover(), "");
}

TEST(HttpRequestParser, KeepsMethodCaseAndHeaderNamesAsSent) {
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("get /a%20b/ HTTP/1.1\r\nhOsT: a\r\nX-Empty:\r\nX-Pad:   v  \r\n\r\n"),
            State::done);
  EXPECT_EQ(p.head().method, "get");    // RFC 9110 9.1: case-sensitive, not upper-cased
  EXPECT_EQ(p.head().path, "/a%20b/");  // raw, not decoded
  EXPECT_EQ(p.head().query, "");
  EXPECT_EQ(p.head().headers, (Headers{{"hOsT", "a"}, {"X-Empty", ""}, {"X-Pad", "v"}}));
}

TEST(HttpRequestParser, Http10WithoutHostIsFineAndCloses) {
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("GET /old HTTP/1.0\r\n\r\n"), State::done);
  EXPECT_EQ(p.head().version, 10u);
  EXPECT_EQ(p.head().version_text(), "HTTP/1.0");
  EXPECT_FALSE(p.head().keep_alive);
  EXPECT_EQ(p.head().path, "/old");
  EXPECT_TRUE(p.head().headers.empty());
}

TEST(HttpRequestParser, KeepAliveFollowsVersionAndConnection) {
  {
    RequestParser p{Limits{}};
    ASSERT_EQ(p.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), State::done);
    EXPECT_EQ(p.head().version, 10u);
    EXPECT_TRUE(p.head().keep_alive);
  }
  {
    RequestParser p{Limits{}};
    ASSERT_EQ(p.feed("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"), State::done);
    EXPECT_FALSE(p.head().keep_alive);
  }
}

TEST(HttpRequestParser, LaterMinorVersionsAreReadAsHttp11) {
  // RFC 9110 2.5: a 1.x recipient reads a later minor as the highest it supports.
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), State::done)
      << p.error().status << " " << p.error().detail;
  EXPECT_EQ(p.head().version, 11u);
  EXPECT_EQ(p.head().version_text(), "HTTP/1.1");
  EXPECT_TRUE(p.head().keep_alive);
  EXPECT_EQ(p.head_bytes(), "GET / HTTP/1.2\r\nHost: a\r\n\r\n");  // as sent
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.9\r\n\r\n"));        // still 1.1: Host is required
}

TEST(HttpRequestParser, SkipsLeadingEmptyLinesAndKeepsThemInHeadBytes) {
  // RFC 9112 2.2: CRLF and bare LF both.
  const std::string req = "\r\n\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestParser p{Limits{}};
  EXPECT_EQ(p.feed("\r"), State::need_head);
  EXPECT_EQ(p.feed("\n\n"), State::need_head);
  EXPECT_EQ(p.head_bytes(), "\r\n\n");
  EXPECT_EQ(p.feed(req.substr(3)), State::done);
  EXPECT_EQ(p.head().method, "GET");
  EXPECT_EQ(p.head_bytes(), req);
  EXPECT_TRUE(accepted(req));
}

TEST(HttpRequestParser, OneByteAtATimeGivesTheSameHead) {
  const std::string req =
      "\r\nOPTIONS http://example.test/x/y?z HTTP/1.1\r\nHost: example.test\r\n"
      "Accept: */*\r\nConnection: close\r\nX-Long: " +
      std::string(300, 'v') + "\r\n\r\n";
  RequestParser whole{Limits{}};
  ASSERT_EQ(whole.feed(req), State::done);

  RequestParser p{Limits{}};
  for (std::size_t i = 0; i + 1 < req.size(); ++i) {
    ASSERT_EQ(p.feed(req.substr(i, 1)), State::need_head) << "at byte " << i;
  }
  ASSERT_EQ(p.feed(req.substr(req.size() - 1)), State::done);
  EXPECT_EQ(p.head().method, whole.head().method);
  EXPECT_EQ(p.head().target, whole.head().target);
  EXPECT_EQ(p.head().version, whole.head().version);
  EXPECT_EQ(p.head().headers, whole.head().headers);
  EXPECT_EQ(p.head().keep_alive, whole.head().keep_alive);
  EXPECT_EQ(p.head().path, "/x/y");
  EXPECT_EQ(p.head().query, "z");
  EXPECT_FALSE(p.head().keep_alive);
  EXPECT_EQ(p.head_bytes(), req);
  EXPECT_EQ(whole.head_bytes(), req);
}

TEST(HttpRequestParser, PendingHoldsAnIncompleteHead) {
  RequestParser p{Limits{}};
  EXPECT_EQ(p.pending(), "");
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\nHo"), State::need_head);
  EXPECT_EQ(p.pending(), "GET / HTTP/1.1\r\nHo");
  EXPECT_EQ(p.feed("st: a\r\n"), State::need_head);
  EXPECT_EQ(p.pending(), "GET / HTTP/1.1\r\nHost: a\r\n");
  EXPECT_EQ(p.head_bytes(), "");
  EXPECT_EQ(p.feed("\r\n"), State::done);
  EXPECT_EQ(p.pending(), "");
}

// --- bodies ------------------------------------------------------------------------------------

TEST(HttpRequestParser, ContentLengthBodyInPieces) {
  const std::string head = "POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed(head), State::need_body);
  EXPECT_TRUE(p.head_done());
  EXPECT_EQ(p.head().content_length, 11u);
  EXPECT_TRUE(p.head().has_body());
  EXPECT_FALSE(p.head().chunked);
  EXPECT_EQ(p.head_bytes(), head);
  EXPECT_EQ(p.body_bytes(), "");
  EXPECT_EQ(p.feed(""), State::need_body);
  EXPECT_EQ(p.feed("hello"), State::need_body);
  EXPECT_EQ(p.body_bytes(), "hello");
  EXPECT_EQ(p.feed(" wor"), State::need_body);
  EXPECT_EQ(p.body_bytes(), "hello wor");
  EXPECT_EQ(p.feed("ldGET"), State::done);  // the next request's first bytes
  EXPECT_EQ(p.body(), "hello world");
  EXPECT_EQ(p.body_bytes(), "hello world");
  EXPECT_EQ(p.head_bytes(), head);
  EXPECT_EQ(p.take_leftover(), "GET");
  EXPECT_EQ(p.take_leftover(), "");
}

TEST(HttpRequestParser, HeadAndBodyInOneFeedStopAtTheHead) {
  const std::string head = "PUT /f HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\n";
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed(head + "abc"), State::need_body);
  EXPECT_EQ(p.body_bytes(), "");
  EXPECT_EQ(p.head_bytes(), head);
  EXPECT_EQ(p.feed(""), State::done);
  EXPECT_EQ(p.body(), "abc");
  EXPECT_EQ(p.body_bytes(), "abc");
}

TEST(HttpRequestParser, ZeroContentLengthIsDoneAtTheHead) {
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"), State::done);
  EXPECT_EQ(p.head().content_length, 0u);
  EXPECT_FALSE(p.head().has_body());
  EXPECT_EQ(p.body(), "");
}

TEST(HttpRequestParser, RepeatedEqualContentLengthsAreOne) {
  RequestParser p{Limits{}};
  ASSERT_EQ(
      p.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nxy"),
      State::need_body);
  EXPECT_EQ(p.head().content_length, 2u);
  EXPECT_EQ(p.feed(""), State::done);
  EXPECT_EQ(p.body(), "xy");
}

TEST(HttpRequestParser, ChunkedBodyWithExtensionsAndTrailers) {
  const std::string head = "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string wire =
      "5;name=value\r\nhello\r\n"
      "6 ; q=\"x\"\r\n world\r\n"
      "A\r\n0123456789\r\n"
      "0;last\r\nX-Trailer: yes\r\nX-Other: 2\r\n\r\n";
  {
    RequestParser p{Limits{}};
    ASSERT_EQ(p.feed(head), State::need_body);
    EXPECT_TRUE(p.head().chunked);
    EXPECT_TRUE(p.head().has_body());
    EXPECT_EQ(p.head().content_length, std::nullopt);
    ASSERT_EQ(p.feed(wire + "NEXT"), State::done) << p.error().detail;
    EXPECT_EQ(p.body(), "hello world0123456789");
    EXPECT_EQ(p.body_bytes(), wire);
    EXPECT_EQ(p.take_leftover(), "NEXT");
  }
  {
    RequestParser p{Limits{}};
    ASSERT_EQ(p.feed(head), State::need_body);
    for (std::size_t i = 0; i + 1 < wire.size(); ++i) {
      ASSERT_EQ(p.feed(wire.substr(i, 1)), State::need_body) << "at byte " << i;
    }
    ASSERT_EQ(p.feed(wire.substr(wire.size() - 1)), State::done);
    EXPECT_EQ(p.body(), "hello world0123456789");
    EXPECT_EQ(p.body_bytes(), wire);
    EXPECT_EQ(p.take_leftover(), "");
  }
  EXPECT_TRUE(accepted(head + wire));
}

TEST(HttpRequestParser, ChunkedAfterOtherCodingsIsFine) {
  RequestParser p{Limits{}};
  ASSERT_EQ(parse_all(p,
                      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                      "2\r\nzz\r\n0\r\n\r\n"),
            State::done);
  EXPECT_TRUE(p.head().chunked);
  EXPECT_EQ(p.body(), "zz");  // the coding is the application's business
}

// --- pipelining --------------------------------------------------------------------------------

TEST(HttpRequestParser, PipelinedRequestsAreLeftOver) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "GET /2?q HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed(first + second), State::done);
  EXPECT_EQ(p.head().path, "/1");
  EXPECT_EQ(p.head_bytes(), first);
  EXPECT_EQ(p.pending(), second);
  EXPECT_EQ(p.feed("more"), State::done);  // a done parser only keeps what it is fed
  EXPECT_EQ(p.take_leftover(), second + "more");
  EXPECT_EQ(p.take_leftover(), "");

  RequestParser next{Limits{}};
  ASSERT_EQ(next.feed(second), State::done);
  EXPECT_EQ(next.head().path, "/2");
  EXPECT_EQ(next.head().query, "q");
  EXPECT_FALSE(next.head().keep_alive);
  EXPECT_EQ(next.head_bytes(), second);
}

TEST(HttpRequestParser, PipelinedAfterABody) {
  const std::string first = "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody";
  const std::string chunked =
      "POST /2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n";
  const std::string third = "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestParser p{Limits{}};
  ASSERT_EQ(parse_all(p, first + chunked + third), State::done);
  EXPECT_EQ(p.body(), "body");
  std::string rest = p.take_leftover();
  EXPECT_EQ(rest, chunked + third);

  RequestParser p2{Limits{}};
  ASSERT_EQ(parse_all(p2, rest), State::done);
  EXPECT_EQ(p2.head().path, "/2");
  EXPECT_EQ(p2.body(), "x");
  EXPECT_EQ(p2.body_bytes(), "1\r\nx\r\n0\r\n\r\n");
  rest = p2.take_leftover();
  EXPECT_EQ(rest, third);

  RequestParser p3{Limits{}};
  ASSERT_EQ(p3.feed(rest), State::done);
  EXPECT_EQ(p3.head().path, "/3");
}

// --- targets -----------------------------------------------------------------------------------

TEST(HttpRequestParser, AbsoluteFormDropsSchemeAndAuthority) {
  struct Case {
    std::string target, path, query;
  };
  for (const Case& c : {
           Case{"http://example.test:8080/a/b?x=1", "/a/b", "x=1"},
           Case{"http://example.test", "/", ""},
           Case{"http://example.test/", "/", ""},
           Case{"http://example.test?x=1", "/", "x=1"},
           Case{"https://user@example.test/p?", "/p", ""},
           Case{"/plain?a?b", "/plain", "a?b"},
       }) {
    RequestParser p{Limits{}};
    ASSERT_EQ(p.feed("GET " + c.target + " HTTP/1.1\r\nHost: example.test\r\n\r\n"), State::done)
        << c.target << ": " << p.error().detail;
    EXPECT_EQ(p.head().target, c.target);
    EXPECT_EQ(p.head().path, c.path) << c.target;
    EXPECT_EQ(p.head().query, c.query) << c.target;
  }
}

TEST(HttpRequestParser, AsteriskIsOnlyForOptions) {
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), State::done);
  EXPECT_EQ(p.head().target, "*");
  EXPECT_EQ(p.head().path, "*");
  EXPECT_EQ(p.head().query, "");
  EXPECT_TRUE(refused_with(400, "GET * HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "options * HTTP/1.1\r\nHost: a\r\n\r\n"));  // case-sensitive
}

TEST(HttpRequestParser, RefusesATargetNeitherPathNorAbsolute) {
  EXPECT_TRUE(refused_with(400, "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET example.test:443 HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET ://example.test/ HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET ?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
}

// --- limits ------------------------------------------------------------------------------------

TEST(HttpRequestParser, RequestLineLimit) {
  const Limits limits{.max_request_line = 64, .max_header = 1024, .max_body = 1024};
  const std::string host = "Host: a\r\n\r\n";
  EXPECT_TRUE(accepted(request_line_of(64) + host, limits));
  EXPECT_TRUE(refused_with(414, request_line_of(65) + host, limits));
  EXPECT_TRUE(refused_with(414, request_line_of(500) + host, limits));
}

TEST(HttpRequestParser, RequestLineLimitBeforeTheLineEnds) {
  const Limits limits{.max_request_line = 64, .max_header = 1024, .max_body = 1024};
  {
    // 63 bytes may still end in the 64th: wait. The 64th byte ends it.
    const std::string line = request_line_of(64);
    RequestParser p{limits};
    EXPECT_EQ(p.feed(line.substr(0, 63)), State::need_head);
    EXPECT_EQ(p.feed(line.substr(63) + "Host: a\r\n\r\n"), State::done);
  }
  {
    // 64 bytes and no LF yet: the line cannot fit any more.
    const std::string line = request_line_of(65);
    RequestParser p{limits};
    EXPECT_EQ(p.feed(line.substr(0, 63)), State::need_head);
    EXPECT_EQ(p.feed(line.substr(63, 1)), State::error);
    EXPECT_EQ(p.error().status, 414u);
  }
  {
    RequestParser p{limits};
    EXPECT_EQ(p.feed(std::string(10000, 'G')), State::error);
    EXPECT_EQ(p.error().status, 414u);
  }
  {
    // Leading empty lines do not count.
    RequestParser p{limits};
    EXPECT_EQ(p.feed(std::string(100, '\n') + request_line_of(64) + "Host: a\r\n\r\n"),
              State::done);
  }
}

TEST(HttpRequestParser, HeaderFieldsLimit) {
  const Limits limits{.max_request_line = 64, .max_header = 32, .max_body = 1024};
  // "Host: a\r\n" is 9 bytes, "X: " + pad + "\r\n" is 5 + pad: 32 bytes of fields with pad 18.
  const auto head = [](std::size_t pad) {
    return "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(pad, 'p') + "\r\n\r\n";
  };
  EXPECT_TRUE(accepted(head(18), limits));
  EXPECT_TRUE(refused_with(431, head(19), limits));
  EXPECT_TRUE(refused_with(431, head(1000), limits));
  // Both limits reached at once.
  EXPECT_TRUE(
      accepted(request_line_of(64) + "Host: a\r\nX: " + std::string(18, 'p') + "\r\n\r\n", limits));
}

TEST(HttpRequestParser, HeaderFieldsLimitBeforeTheHeadEnds) {
  const Limits limits{.max_request_line = 64, .max_header = 32, .max_body = 1024};
  RequestParser p{limits};
  EXPECT_EQ(p.feed("GET / HTTP/1.1\r\nHost: a\r\n"), State::need_head);
  EXPECT_EQ(p.feed("X: " + std::string(40, 'p')), State::error);  // no end of head in sight
  EXPECT_EQ(p.error().status, 431u);

  RequestParser many{limits};
  EXPECT_EQ(many.feed("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n"),
            State::error);
  EXPECT_EQ(many.error().status, 431u);
}

TEST(HttpRequestParser, ContentLengthOverTheLimitIsRefusedAtTheHead) {
  const Limits limits{.max_request_line = 64, .max_header = 1024, .max_body = 10};
  RequestParser p{limits};
  // No body byte sent: the length alone decides.
  EXPECT_EQ(p.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"), State::error);
  EXPECT_EQ(p.error().status, 413u);
  EXPECT_EQ(p.body_bytes(), "");
  EXPECT_TRUE(
      refused_with(413, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n", limits));
  EXPECT_TRUE(refused_with(
      413, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999\r\n\r\n", limits));
  EXPECT_TRUE(
      accepted("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", limits));
}

TEST(HttpRequestParser, ChunkedBodyOverTheLimit) {
  const Limits limits{.max_request_line = 64, .max_header = 1024, .max_body = 10};
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_TRUE(accepted(head + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n", limits));
  EXPECT_TRUE(refused_with(413, head + "6\r\nabcdef\r\n5\r\nghijk\r\n0\r\n\r\n", limits));
  // A single chunk too big is refused at its size line.
  RequestParser p{limits};
  ASSERT_EQ(p.feed(head), State::need_body);
  EXPECT_EQ(p.feed("b\r\n"), State::error);
  EXPECT_EQ(p.error().status, 413u);
}

// --- refusals ----------------------------------------------------------------------------------

TEST(HttpRequestParser, RefusesObsFold) {
  // RFC 9112 5.2.
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n"));
  // Whitespace between the request line and the first field (RFC 9112 2.2).
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\n Host: a\r\n\r\n"));
}

TEST(HttpRequestParser, RefusesContentLengthWithTransferEncoding) {
  // RFC 9112 6.1: the request-smuggling shape, in either order and whatever the coding.
  EXPECT_TRUE(refused_with(400,
                           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"));
  EXPECT_TRUE(refused_with(400,
                           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Length: 5\r\n\r\n0\r\n\r\n"));
  EXPECT_TRUE(refused_with(400,
                           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                           "Transfer-Encoding: gzip\r\n\r\nhello"));
  EXPECT_TRUE(refused_with(400,
                           "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                           "Content-Length: 5\r\n\r\nhello"));
}

TEST(HttpRequestParser, RefusesBadContentLengths) {
  EXPECT_TRUE(refused_with(400,
                           "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                           "Content-Length: 6\r\n\r\nhello!"));
  EXPECT_TRUE(refused_with(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\n"));
}

TEST(HttpRequestParser, RefusesABadChunkSize) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  EXPECT_TRUE(refused_with(400, head + "zz\r\n"));
  EXPECT_TRUE(refused_with(400, head + "3\r\nabcX\r\n0\r\n\r\n"));  // no CRLF after the data
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed(head), State::need_body);
  EXPECT_EQ(p.feed("zz\r\n"), State::error);
  EXPECT_EQ(p.error().status, 400u);
  EXPECT_EQ(p.feed("more"), State::error);  // an error stays
}

TEST(HttpRequestParser, RefusesTransferCodingsNotEndingInChunked) {
  EXPECT_TRUE(refused_with(501, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"));
  EXPECT_TRUE(
      refused_with(501, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"));
}

TEST(HttpRequestParser, Http11NeedsExactlyOneHost) {
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"));
  EXPECT_TRUE(accepted("GET / HTTP/1.1\r\nHOST: a\r\n\r\n"));
  EXPECT_TRUE(accepted("GET / HTTP/1.1\r\nHost:\r\n\r\n"));  // empty, but there
}

TEST(HttpRequestParser, RefusesOtherMajorVersions) {
  EXPECT_TRUE(refused_with(505, "GET / HTTP/2.0\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(505, "GET / HTTP/3.0\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(505, "GET / HTTP/0.9\r\n\r\n"));
  // A line that is bad otherwise is a bad line, whatever its version.
  EXPECT_TRUE(refused_with(400, "GE T / HTTP/2.0\r\nHost: a\r\n\r\n"));
}

TEST(HttpRequestParser, RefusesLinesBeastCannotParse) {
  EXPECT_TRUE(refused_with(400, "GET / HTTP/x\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1x\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / http/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/11.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET /\r\nHost: a\r\n\r\n"));  // HTTP/0.9 shape
  EXPECT_TRUE(refused_with(400, "GE T / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost a\r\n\r\n"));  // a field without ':'
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nBad Name: a\r\nHost: a\r\n\r\n"));
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n"s));
  EXPECT_TRUE(refused_with(400, "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"));
}

TEST(HttpRequestParser, BareLfHeadIsRefusedNotHung) {
  // Beast wants CRLF; a head ended by bare LFs must end the wait all the same.
  EXPECT_TRUE(refused_with(400, "GET / HTTP/1.1\nHost: a\n\n"));
}

// --- Expect ------------------------------------------------------------------------------------

TEST(HttpRequestParser, ExpectContinueStopsBeforeTheBody) {
  const std::string head =
      "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n";
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed(head), State::need_body);
  EXPECT_TRUE(p.head().expect_continue);
  EXPECT_EQ(p.body_bytes(), "");
  EXPECT_EQ(p.body(), "");
  EXPECT_EQ(p.feed("hello"), State::done);
  EXPECT_EQ(p.body(), "hello");

  RequestParser upper{Limits{}};
  ASSERT_EQ(upper.feed("PUT /f HTTP/1.1\r\nHost: a\r\nexpect: 100-Continue\r\n"
                       "Content-Length: 5\r\n\r\nhello"),
            State::need_body);
  EXPECT_TRUE(upper.head().expect_continue);
  EXPECT_EQ(upper.body_bytes(), "");
}

TEST(HttpRequestParser, RefusesOtherExpectations) {
  EXPECT_TRUE(refused_with(417, "GET / HTTP/1.1\r\nHost: a\r\nExpect: something-else\r\n\r\n"));
  EXPECT_TRUE(refused_with(417, "GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n"));
}

TEST(HttpRequestParser, ExpectContinueMeansNothingOnHttp10) {
  RequestParser p{Limits{}};
  ASSERT_EQ(p.feed("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n"),
            State::need_body);
  EXPECT_FALSE(p.head().expect_continue);
  EXPECT_EQ(p.feed("ok"), State::done);
  EXPECT_EQ(p.body(), "ok");
}

// --- responses ---------------------------------------------------------------------------------

TEST(HttpRenderHead, WritesStatusLineAndFieldsInOrder) {
  EXPECT_EQ(render_head(200, "", {{"A", "b"}, {"C", "d"}}),
            "HTTP/1.1 200 OK\r\nA: b\r\nC: d\r\n\r\n");
  EXPECT_EQ(render_head(200, "", {}), "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(render_head(200, "", {{"content-TYPE", "text/plain"}, {"X-Dup", "1"}, {"X-Dup", "2"}}),
            "HTTP/1.1 200 OK\r\ncontent-TYPE: text/plain\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n");
  EXPECT_EQ(render_head(100, "", {}), "HTTP/1.1 100 Continue\r\n\r\n");
}

TEST(HttpRenderHead, CustomAndUnknownReasons) {
  EXPECT_EQ(render_head(404, "Gone Fishing", {}), "HTTP/1.1 404 Gone Fishing\r\n\r\n");
  EXPECT_EQ(render_head(299, "", {}), "HTTP/1.1 299 Unknown\r\n\r\n");
  EXPECT_EQ(render_head(999, "", {}), "HTTP/1.1 999 Unknown\r\n\r\n");
}

TEST(HttpRenderHead, Http10) {
  EXPECT_EQ(render_head(200, "", {{"A", "b"}}, 10), "HTTP/1.0 200 OK\r\nA: b\r\n\r\n");
}

TEST(HttpRenderHead, StatusOutOfRangeIs500) {
  EXPECT_EQ(render_head(1000, "", {}), "HTTP/1.1 500 Internal Server Error\r\n\r\n");
  EXPECT_EQ(render_head(99, "", {}), "HTTP/1.1 500 Internal Server Error\r\n\r\n");
  EXPECT_EQ(render_head(0, "", {}), "HTTP/1.1 500 Internal Server Error\r\n\r\n");
}

TEST(HttpReasonPhrase, NamesTheStatusOrSaysUnknown) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(418), "Unknown");  // Beast does not name the teapot
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(599), "Network Connect Timeout Error");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_EQ(reason_phrase(0), "Unknown");
}

TEST(HttpChunk, FramesData) {
  EXPECT_EQ(chunk(""), "");
  EXPECT_EQ(chunk("abc"), "3\r\nabc\r\n");
  EXPECT_EQ(chunk(std::string(15, 'x')), "f\r\n" + std::string(15, 'x') + "\r\n");
  EXPECT_EQ(chunk(std::string(16, 'x')), "10\r\n" + std::string(16, 'x') + "\r\n");
  const std::string data(255, 'y');
  EXPECT_EQ(chunk(data), "ff\r\n" + data + "\r\n");
  const std::string big(4096, 'z');
  EXPECT_EQ(chunk(big), "1000\r\n" + big + "\r\n");
  EXPECT_EQ(chunk("a\0b"s), "3\r\na\0b\r\n"s);
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

TEST(HttpChunk, RoundTripsThroughTheParser) {
  const std::string wire = chunk("hello ") + chunk(std::string(300, 'w')) + std::string(kLastChunk);
  RequestParser p{Limits{}};
  ASSERT_EQ(parse_all(p, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + wire),
            State::done);
  EXPECT_EQ(p.body(), "hello " + std::string(300, 'w'));
  EXPECT_EQ(p.body_bytes(), wire);
}

TEST(HttpErrorPage, ShowsTheStatusAndEscapesTheDetail) {
  const std::string page = error_page(404, "<script>alert('x')</script> & more");
  EXPECT_NE(page.find("404 Not Found"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(page.find("&amp; more"), std::string::npos);
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_TRUE(page.starts_with("<!DOCTYPE html>"));

  const std::string bare = error_page(418, "");
  EXPECT_NE(bare.find("418 Unknown"), std::string::npos);
  EXPECT_EQ(bare.find("<p>"), std::string::npos);
}

TEST(HttpFindHeader, IsCaseInsensitiveAndReturnsTheFirst) {
  const Headers h{{"Host", "a"}, {"X-Dup", "1"}, {"x-dup", "2"}, {"Empty", ""}};
  EXPECT_EQ(find_header(h, "host"), "a");
  EXPECT_EQ(find_header(h, "HOST"), "a");
  EXPECT_EQ(find_header(h, "x-DUP"), "1");
  EXPECT_EQ(find_header(h, "Empty"), "");
  EXPECT_EQ(find_header(h, "Hos"), std::nullopt);
  EXPECT_EQ(find_header(h, "Hostx"), std::nullopt);
  EXPECT_EQ(find_header(h, ""), std::nullopt);
  EXPECT_EQ(find_header({}, "Host"), std::nullopt);
}

}  // namespace
}  // namespace protofarm::http
