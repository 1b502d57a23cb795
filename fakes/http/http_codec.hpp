// The http fake's codec: requests in (Boost.Beast's parser, with the limits and checks of a
// strict server around it), response heads out (Beast's serializer), chunked framing. Pure: bytes
// in, values out, no sockets, so every limit and every refusal is unit-tested byte by byte.
//
// What a strict server refuses, and with what (RFC 9112, RFC 9110):
// - a request line longer than max_request_line: 414; header fields beyond max_header: 431;
// - a body beyond max_body: 413, known from Content-Length before any of it is read;
// - obs-fold (a header line that begins with a space or tab, RFC 9112 5.2): 400;
// - Content-Length together with Transfer-Encoding (the request-smuggling shape, RFC 9112
//   6.1), two different Content-Lengths, a bad chunk size: 400;
// - a Transfer-Encoding whose last coding is not chunked: 501 (the length is unknowable);
// - HTTP/1.1 without exactly one Host: 400; a major version other than 1: 505;
// - any other line Beast cannot parse (a bad method token, target or version): 400.
// Empty lines before the request line are passed over (RFC 9112 2.2).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace protofarm::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// The first field of that name (case-insensitive), if any.
std::optional<std::string_view> find_header(const Headers& headers, std::string_view name);

struct Limits {
  std::size_t max_request_line = 8192;              // CRLF included
  std::size_t max_header = std::size_t{16} * 1024;  // the header fields, after the request line
  std::uint64_t max_body = std::uint64_t{16} * 1024 * 1024;  // decoded
};

struct RequestHead {
  std::string method;      // as sent (case-sensitive, RFC 9110 9.1)
  std::string target;      // as sent
  unsigned version = 11;   // 10 or 11 (HTTP/1.2 and later minors are read as 1.1)
  Headers headers;         // in order, names as sent
  bool keep_alive = true;  // what the request asks for (version and Connection)
  bool chunked = false;
  std::optional<std::uint64_t> content_length;
  bool expect_continue = false;  // Expect: 100-continue on HTTP/1.1
  // The target in origin form: `path` starts with '/' (or is "*" for OPTIONS *), raw (not
  // decoded); an absolute-form target's scheme and authority are dropped. `query` is what
  // follows '?', "" when there is none.
  std::string path;
  std::string query;

  std::optional<std::string_view> header(std::string_view name) const {
    return find_header(headers, name);
  }
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
  std::string version_text() const { return version == 10 ? "HTTP/1.0" : "HTTP/1.1"; }
};

struct RequestError {
  unsigned status = 400;
  std::string detail;  // what was wrong, for the transcript and the error page
};

// One request, fed in pieces. Feed bytes until the head is done; the session then decides
// (Expect: 100-continue, the rules) and feeds on until the request is done. Bytes fed past the
// end of the request (a pipelined next request) are kept for take_leftover().
class RequestParser {
 public:
  enum class State { need_head, need_body, done, error };

  explicit RequestParser(const Limits& limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // Takes all of `bytes`; returns the state after them. Stops at the end of the head (state
  // need_body, or done for a request without a body): call feed("") to go on with what is
  // buffered.
  State feed(std::string_view bytes);
  State state() const { return state_; }
  // Whether the whole head was read (it stays true when the body then fails).
  bool head_done() const { return head_complete_; }

  const RequestHead& head() const { return head_; }  // once head_done()
  const std::string& body() const;                   // decoded; complete once done
  const RequestError& error() const { return error_; }
  // The bytes of the request as they arrived: the head (leading empty lines included) and then
  // the body as framed on the wire (chunk sizes and all).
  const std::string& head_bytes() const { return head_bytes_; }
  const std::string& body_bytes() const { return body_bytes_; }
  // Bytes fed but not part of this request (the next one); left in the parser until taken.
  std::string take_leftover();
  // Bytes fed that are still waiting for the head to complete (what a client that went away
  // in the middle of its head sent).
  std::string_view pending() const { return pending_; }

 private:
  State fail(unsigned status, std::string detail);
  State parse_head();
  State parse_body();
  State check_head();

  struct Beast;
  std::unique_ptr<Beast> beast_;
  Limits limits_;
  State state_ = State::need_head;
  bool head_complete_ = false;
  RequestHead head_;
  RequestError error_;
  std::string pending_;  // fed, not yet consumed
  std::string head_bytes_, body_bytes_;
};

// --- responses ---------------------------------------------------------------------------------

// The reason phrase of a status (RFC 9110 15), "Unknown" for codes it does not name.
std::string_view reason_phrase(unsigned status);
// "HTTP/1.1 STATUS REASON", the fields in order, the empty line: through Beast's serializer.
// `reason` empty: reason_phrase(status). A status outside 100..999 is written as 500.
std::string render_head(unsigned status, std::string_view reason, const Headers& headers,
                        unsigned version = 11);
// One chunk of a chunked body (RFC 9112 7.1): hex size, CRLF, data, CRLF. "" for no data (the
// last chunk is kLastChunk).
std::string chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
// A small HTML page for an error status, with `detail` escaped.
std::string error_page(unsigned status, std::string_view detail);

}  // namespace protofarm::http
