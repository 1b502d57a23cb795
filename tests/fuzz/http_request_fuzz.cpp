// Fuzz target: the http fake's request path, bytes in and response out, without sockets.
//
// The input is what a client sends on one connection. Its first byte chooses the limits and how
// the rest is cut into reads; then requests are parsed one after another (http_codec.hpp), as the
// session does, pipelined ones from the previous one's leftover. Each request's path goes through
// normalize_path and the static document root (docroot.hpp, over a small tree made once), its
// Range header through parse_range, and the input is also read as a CGI script's output
// (cgi.hpp). Besides not crashing, leaking or invoking undefined behaviour, the codecs must keep
// their stated properties: the parser accounts for every byte it was fed, a refused request has a
// 4xx/5xx status, a normalized path is absolute without dot segments, ranges lie inside the file,
// and every response head is a well-formed status line and header block.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/http_request/ in every build, so `make test` (and its ASan build) runs it.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "fakes/http/cgi.hpp"
#include "fakes/http/docroot.hpp"
#include "fakes/http/http_codec.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm::http;
namespace fs = std::filesystem;

// A small document root, made once per process and removed at exit.
struct Tree {
  fs::path root;
  Tree() {
    root = fs::temp_directory_path() / ("protofarm-http-fuzz-" + std::to_string(::getpid()));
    fs::create_directories(root / "dir" / "sub");
    std::ofstream(root / "index.html") << "<p>home</p>\n";
    std::ofstream(root / "a.txt") << "0123456789abcdefghij";
    std::ofstream(root / "dir" / "b.json") << "{}";
    std::ofstream(root / "empty.bin");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

void check_head(const std::string& head) {
  check(head.starts_with("HTTP/1."));
  check(head.size() >= 17 && head.ends_with("\r\n\r\n"));
  check(head[8] == ' ' && head[12] == ' ');
}

void check_static(const Docroot& docroot, const RequestHead& head) {
  StaticRequest sr;
  sr.method = head.method;
  sr.path = head.path;
  sr.query = head.query;
  sr.if_none_match = head.header("If-None-Match");
  sr.if_modified_since = head.header("If-Modified-Since");
  sr.range = head.header("Range");
  sr.if_range = head.header("If-Range");
  const auto answer = docroot.answer(sr);
  if (!answer) return;
  check(answer->status >= 200 && answer->status <= 599);
  for (const BodyPart& part : answer->body) {
    if (!part.from_file) continue;
    std::error_code ec;
    const std::uint64_t size = fs::file_size(answer->file, ec);
    check(!ec && part.offset + part.length <= size);
  }
  if (auto length = find_header(answer->headers, "Content-Length"))
    check(*length == std::to_string(answer->body_size()));
  check_head(render_head(answer->status, "", answer->headers));
}

void check_path(std::string_view raw) {
  const NormalizedPath n = normalize_path(raw);
  if (n.status != NormalizedPath::Status::ok) return;
  check(n.path.starts_with('/'));
  check(n.path.find("//") == std::string::npos);
  check(n.path.find('\0') == std::string::npos);
  check(n.path.find("/../") == std::string::npos && !n.path.ends_with("/.."));
  check(n.path.find("/./") == std::string::npos && !n.path.ends_with("/."));
}

void check_range(std::string_view header) {
  for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{20}}) {
    const RangeRequest r = parse_range(header, size);
    if (r.kind != RangeRequest::Kind::satisfiable) continue;
    check(!r.ranges.empty());
    for (const ByteRange& b : r.ranges) check(b.first <= b.last && b.last < size);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const Tree tree;
  static const Docroot docroot(tree.root, DocrootOptions{true, {}, 7});
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  Limits limits;
  if (data[0] & 1) limits = Limits{64, 128, 32};  // small limits, so that they are hit
  const std::size_t piece = 1 + (data[0] >> 1) % 17;

  std::string next(input);
  for (int requests = 0; requests < 16 && !next.empty(); ++requests) {
    RequestParser parser(limits);
    std::size_t fed = 0;
    for (std::size_t at = 0; at < next.size() && parser.state() != RequestParser::State::error &&
                             parser.state() != RequestParser::State::done;
         at += piece) {
      const std::string_view part = std::string_view(next).substr(at, piece);
      parser.feed(part);
      fed += part.size();
    }
    if (parser.state() == RequestParser::State::error) {
      check(parser.error().status >= 400 && parser.error().status <= 599);
      check_head(render_head(parser.error().status, "", {}));
      break;
    }
    if (parser.state() != RequestParser::State::done) break;  // waits for more input
    const std::string leftover = parser.take_leftover();
    // Every byte fed is part of this request or left for the next one.
    check(parser.head_bytes().size() + parser.body_bytes().size() + leftover.size() == fed);
    const RequestHead& head = parser.head();
    check(!head.method.empty());
    check(head.path == "*" || head.path.starts_with('/'));
    check(!head.chunked || !head.content_length);
    check(parser.body().size() <= limits.max_body);
    check_path(head.path);
    if (auto range = head.header("Range")) check_range(*range);
    if (head.path != "*") check_static(docroot, head);
    next = leftover + next.substr(fed);
  }

  const CgiResponse cgi = parse_cgi_output(input);
  if (cgi.kind != CgiResponse::Kind::invalid) check(cgi.status >= 100 && cgi.status <= 599);
  check_path(input.substr(0, 256));
  check_range(input.substr(0, 256));
  check(chunk(input.substr(0, 300)).size() >= std::min<std::size_t>(input.size(), 300));
  return 0;
}
