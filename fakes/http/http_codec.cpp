#include "fakes/http/http_codec.hpp"

#include <algorithm>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <sstream>

#include "fakes/common/bytes.hpp"
#include "fakes/http/docroot.hpp"

namespace protofarm::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The end of the head (just past its empty line), if it is all there. "\n\n" ends it too, so
// that a head with bare LF line ends is refused at once rather than waited on.
std::optional<std::size_t> head_end(std::string_view s) {
  for (std::size_t lf = s.find('\n'); lf != std::string_view::npos; lf = s.find('\n', lf + 1)) {
    const std::size_t next = lf + 1;
    if (next < s.size() && s[next] == '\n') return next + 1;
    if (next + 1 < s.size() && s[next] == '\r' && s[next + 1] == '\n') return next + 2;
  }
  return std::nullopt;
}

// Whether a field line of the head begins with a space or tab: obs-fold.
bool has_obs_fold(std::string_view fields) {
  for (std::size_t lf = fields.find('\n'); lf != std::string_view::npos && lf + 1 < fields.size();
       lf = fields.find('\n', lf + 1)) {
    if (fields[lf + 1] == ' ' || fields[lf + 1] == '\t') return true;
  }
  return !fields.empty() && (fields.front() == ' ' || fields.front() == '\t');
}

// Whether the last transfer coding of a Transfer-Encoding list is chunked.
bool ends_chunked(std::string_view value) {
  const std::size_t comma = value.rfind(',');
  const std::string_view last =
      trim(comma == std::string_view::npos ? value : value.substr(comma + 1));
  return iequals(last, "chunked");
}

// The version at the end of a request line (" HTTP/D.D", CR or not), RFC 9112 2.3.
struct LineVersion {
  unsigned version;  // 10 * major + minor
  std::size_t at;    // where "HTTP/D.D" starts in the line
};
std::optional<LineVersion> line_version(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  if (line.size() < 9) return std::nullopt;
  const std::size_t at = line.size() - 8;
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (line[at - 1] != ' ' || line.substr(at, 5) != "HTTP/" || !digit(line[at + 5]) ||
      line[at + 6] != '.' || !digit(line[at + 7]))
    return std::nullopt;
  return LineVersion{
      static_cast<unsigned>(line[at + 5] - '0') * 10 + static_cast<unsigned>(line[at + 7] - '0'),
      at};
}

unsigned status_for(const beast::error_code& ec) {
  if (ec == bhttp::error::header_limit) return 431;
  if (ec == bhttp::error::body_limit) return 413;
  return 400;
}

}  // namespace

std::optional<std::string_view> find_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (iequals(n, name)) return std::string_view(v);
  }
  return std::nullopt;
}

struct RequestParser::Beast {
  bhttp::request_parser<bhttp::string_body> parser;
};

RequestParser::RequestParser(const Limits& limits)
    : beast_(std::make_unique<Beast>()), limits_(limits) {
  // The checks below come first; Beast's own limit only backs them up.
  beast_->parser.header_limit(
      static_cast<std::uint32_t>(limits.max_request_line + limits.max_header + 4));
  beast_->parser.body_limit(limits.max_body);
  beast_->parser.eager(false);  // stop after the head: the session decides about the body
}

RequestParser::~RequestParser() = default;

const std::string& RequestParser::body() const { return beast_->parser.get().body(); }

std::string RequestParser::take_leftover() {
  std::string out = std::move(pending_);
  pending_.clear();
  return out;
}

RequestParser::State RequestParser::fail(unsigned status, std::string detail) {
  error_ = RequestError{status, std::move(detail)};
  state_ = State::error;
  return state_;
}

RequestParser::State RequestParser::feed(std::string_view bytes) {
  pending_.append(bytes);
  if (state_ == State::need_head) return parse_head();
  if (state_ == State::need_body) return parse_body();
  return state_;
}

RequestParser::State RequestParser::parse_head() {
  // RFC 9112 2.2: empty lines before the request line are ignored.
  std::size_t skip = 0;
  while (skip < pending_.size()) {
    if (pending_[skip] == '\n') {
      ++skip;
    } else if (pending_.compare(skip, 2, "\r\n") == 0) {
      skip += 2;
    } else {
      break;
    }
  }
  head_bytes_.append(pending_, 0, skip);
  pending_.erase(0, skip);
  if (pending_.empty() || pending_ == "\r") return state_;

  const std::size_t lf = pending_.find('\n');
  if (lf == std::string::npos) {
    if (pending_.size() >= limits_.max_request_line)
      return fail(414, "request line longer than " + std::to_string(limits_.max_request_line));
    return state_;
  }
  const std::size_t line_length = lf + 1;
  if (line_length > limits_.max_request_line)
    return fail(414, "request line longer than " + std::to_string(limits_.max_request_line));
  const std::optional<std::size_t> end = head_end(pending_);
  const std::size_t fields = (end ? *end : pending_.size()) - line_length;
  if (fields > limits_.max_header + 2)  // the empty line's CRLF is not a field
    return fail(431, "header fields longer than " + std::to_string(limits_.max_header));
  if (!end) return state_;
  if (has_obs_fold(std::string_view(pending_).substr(line_length, *end - line_length)))
    return fail(400, "obs-fold: a header line begins with a space or tab (RFC 9112 5.2)");

  // Beast reads HTTP/1.0 and 1.1 only and calls any other version a bad line, but RFC 9110 2.5
  // reads a later 1.x as 1.1 and another major is a 505: Beast is given such a line as
  // HTTP/1.1 (head_bytes keeps it as sent), and the version sent is checked once Beast has read
  // the rest.
  const auto sent = line_version(std::string_view(pending_).substr(0, lf));
  std::string rewritten;
  std::string_view to_parse(pending_.data(), *end);
  if (sent && sent->version != 10 && sent->version != 11) {
    rewritten.assign(pending_, 0, *end);
    rewritten.replace(sent->at, 8, "HTTP/1.1");
    to_parse = rewritten;
  }

  beast::error_code ec;
  const std::size_t used = beast_->parser.put(boost::asio::buffer(to_parse), ec);
  if (ec == bhttp::error::need_more) {
    // Beast wants CRLF line ends; a head that ended in "\n\n" has bare LFs (RFC 9112 2.2
    // lets a server refuse them).
    return fail(400, "a line of the request head ends in a bare LF, not CRLF");
  }
  if (ec) return fail(status_for(ec), ec.message());
  head_bytes_.append(pending_, 0, used);
  pending_.erase(0, used);
  if (!beast_->parser.is_header_done()) return fail(400, "incomplete request head");
  if (sent && sent->version / 10 != 1)
    return fail(505, "HTTP/" + std::to_string(sent->version / 10) + "." +
                         std::to_string(sent->version % 10) + " is not supported");
  return check_head();
}

RequestParser::State RequestParser::check_head() {
  const auto& req = beast_->parser.get();
  head_.method = std::string(req.method_string());
  head_.target = std::string(req.target());
  for (const auto& field : req) head_.headers.emplace_back(field.name_string(), field.value());
  head_.version = req.version() == 10 ? 10 : 11;
  head_.keep_alive = req.keep_alive();
  head_.chunked = beast_->parser.chunked();
  if (auto length = beast_->parser.content_length()) head_.content_length = *length;

  if (head_.version == 11) {
    const auto hosts = std::count_if(head_.headers.begin(), head_.headers.end(),
                                     [](const auto& h) { return iequals(h.first, "Host"); });
    if (hosts != 1)
      return fail(400, hosts == 0 ? "no Host header (RFC 9112 3.2)" : "two Host headers");
  }
  // RFC 9112 6.1: Beast refuses Content-Length with chunked, or Transfer-Encoding after
  // Content-Length, but not another coding before Content-Length.
  if (head_.header("Transfer-Encoding") && head_.header("Content-Length"))
    return fail(400, "Content-Length together with Transfer-Encoding (RFC 9112 6.1)");
  if (auto te = head_.header("Transfer-Encoding"); te && !ends_chunked(*te))
    return fail(501, "Transfer-Encoding " + std::string(*te) + " is not supported");
  if (auto expect = head_.header("Expect")) {
    if (!iequals(trim(*expect), "100-continue"))
      return fail(417, "Expect: " + std::string(*expect) + " cannot be met");
    head_.expect_continue = head_.version == 11;
  }

  const std::string_view target = head_.target;
  std::string_view origin = target;
  if (target == "*") {
    if (head_.method != "OPTIONS") return fail(400, "target * is only for OPTIONS");
    head_.path = "*";
  } else if (!target.starts_with('/')) {
    // Absolute form (RFC 9112 3.2.2): drop scheme and authority.
    const std::size_t scheme = target.find("://");
    if (scheme == std::string_view::npos || scheme == 0)
      return fail(400, "request target is neither a path nor an absolute URI");
    const std::size_t slash = target.find_first_of("/?", scheme + 3);
    origin = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (head_.path != "*") {
    const std::size_t q = origin.find('?');
    head_.path = std::string(origin.substr(0, q));
    if (head_.path.empty() || head_.path.front() != '/') head_.path.insert(0, "/");
    if (q != std::string_view::npos) head_.query = std::string(origin.substr(q + 1));
  }
  // The fragment is never sent by a client; a '#' in the target is not one.
  head_complete_ = true;
  state_ = beast_->parser.is_done() ? State::done : State::need_body;
  return state_;
}

RequestParser::State RequestParser::parse_body() {
  beast_->parser.eager(true);
  while (!pending_.empty()) {
    beast::error_code ec;
    const std::size_t used = beast_->parser.put(boost::asio::buffer(pending_), ec);
    body_bytes_.append(pending_, 0, used);
    pending_.erase(0, used);
    if (ec == bhttp::error::need_more) break;
    if (ec) return fail(status_for(ec), ec.message());
    if (beast_->parser.is_done()) {
      state_ = State::done;
      break;
    }
    if (used == 0) break;
  }
  return state_;
}

// --- responses ---------------------------------------------------------------------------------

std::string_view reason_phrase(unsigned status) {
  const std::string_view r = bhttp::obsolete_reason(bhttp::int_to_status(status));
  return r == "<unknown-status>" ? std::string_view("Unknown") : r;
}

std::string render_head(unsigned status, std::string_view reason, const Headers& headers,
                        unsigned version) {
  if (status < 100 || status > 999) status = 500;
  bhttp::response_header<> head;
  head.version(version);
  head.result(status);
  head.reason(reason.empty() ? reason_phrase(status) : reason);
  for (const auto& [name, value] : headers) head.insert(name, value);
  std::ostringstream out;
  out << head;
  return out.str();
}

std::string chunk(std::string_view data) {
  if (data.empty()) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (std::size_t n = data.size(); n > 0; n /= 16) size.insert(size.begin(), kHex[n % 16]);
  std::string out;
  out.reserve(size.size() + data.size() + 4);
  out.append(size).append("\r\n").append(data).append("\r\n");
  return out;
}

std::string error_page(unsigned status, std::string_view detail) {
  const std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));
  std::string page = "<!DOCTYPE html>\n<html><head><title>" + title +
                     "</title></head>\n<body><h1>" + title + "</h1>\n";
  if (!detail.empty()) page += "<p>" + html_escape(detail) + "</p>\n";
  page += "<hr><address>protofarm</address>\n</body></html>\n";
  return page;
}

}  // namespace protofarm::http
