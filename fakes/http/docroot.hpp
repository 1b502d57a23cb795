// The static document root of the http fake (`docroot:`): what a GET or HEAD of a path answers,
// decided without sockets, so that every header and byte range is unit-tested.
//
// Safety: nothing outside the root is reachable. The target's path is percent-decoded once and
// normalized (normalize_path); a NUL byte or a `..` that would climb above the root is a bad
// request, an encoded slash (%2F) names nothing (404, as Apache's default), and a file or folder
// whose real path (symlinks resolved) is outside the root's real path is not found.
//
// Determinism: Last-Modified is the scenario's clock for every file (checkouts give files
// arbitrary mtimes), and the ETag is made from the size and that time, so the same tree answers
// the same bytes on every run. Ranges follow RFC 9110 14: single ranges get 206 with
// Content-Range, several get multipart/byteranges with a boundary made from the seed, none
// satisfiable gets 416 with `Content-Range: bytes */SIZE`; a Range header that does not parse is
// ignored (the whole file, 200), as the RFC allows. Only GET has ranges (RFC 9110 14.2): a HEAD
// gets the headers of the whole file. The boundary is "protofarm-" and the 16 lower-case hex
// digits of splitmix64(seed), the same for every multipart answer of a run.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace protofarm::http {

using TimePoint = std::chrono::system_clock::time_point;
using Headers = std::vector<std::pair<std::string, std::string>>;

// --- pure helpers ------------------------------------------------------------------------------

// Decodes %XX escapes (case-insensitive hex). nullopt when an escape is malformed ("%4", "%zz").
// `+` stays `+` (it means space only in form bodies and queries).
std::optional<std::string> percent_decode(std::string_view s);
// Escapes what a URL path segment may not hold as it is (RFC 3986 pchar, keeping '/').
std::string percent_encode_path(std::string_view path);
// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view s);

struct NormalizedPath {
  enum class Status { ok, bad_request, not_found };
  Status status = Status::ok;
  // Decoded, starting with '/', segments joined by single '/', no "." or ".." segments; a trailing
  // '/' is kept ("/a/b/" stays a folder path).
  std::string path;
};
// The path part of a request target (origin-form, without '?query'; the caller strips an
// absolute-form's scheme and authority first). Empty or not starting with '/': bad_request.
NormalizedPath normalize_path(std::string_view raw_path);

// The media type for a file name, from its extension (case-insensitive): text/html;
// charset=utf-8, text/plain; charset=utf-8, application/json, image/png, ... and
// application/octet-stream for anything unknown.
std::string_view content_type_for(std::string_view file_name);

// RFC 9110 5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(TimePoint t);
// Reads IMF-fixdate, RFC 850 and asctime dates (RFC 9110 5.6.7); nullopt otherwise. Names are
// case-sensitive; the weekday must be a valid name but is not checked against the date; an RFC
// 850 two-digit year is 19YY from 70 and 20YY below (a fixed pivot, not the current year).
std::optional<TimePoint> parse_http_date(std::string_view s);

// A strong validator: "\"SIZEHEX-MTIMEHEX\"" (nginx's shape, lower-case hex), MTIME in seconds
// since the epoch (a time before 1970 counts as 0).
std::string make_etag(std::uint64_t size, TimePoint mtime);
// If-None-Match: "*" or a comma-separated list of entity tags, compared weakly (W/ ignored). A
// list that does not parse matches nothing.
bool etag_list_matches(std::string_view header, std::string_view etag);

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};
struct RangeRequest {
  enum class Kind { none, satisfiable, unsatisfiable };
  Kind kind = Kind::none;  // none: no header, or one that does not parse (serve the whole file)
  std::vector<ByteRange> ranges;  // satisfiable ones, clipped to the file, in request order
};
// "bytes=0-99", "bytes=500-", "bytes=-500", lists of them (whitespace allowed around commas).
// Ranges that start past the end are dropped; none left: unsatisfiable. More than 64 ranges, or
// any other unit than bytes (compared case-insensitively): none; so is a header whose elements
// do not all parse, or a range whose last position is before its first. A number too large for
// 64 bits saturates. An empty file satisfies no range.
RangeRequest parse_range(std::string_view header, std::uint64_t size);

// --- the document root ---------------------------------------------------------------------------

// A piece of a response body: literal bytes, or a slice of the answer's file.
struct BodyPart {
  std::string literal;
  bool from_file = false;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::uint64_t size() const { return from_file ? length : literal.size(); }
};

struct StaticAnswer {
  unsigned status = 200;
  // Content-Type, Content-Length, ETag, Last-Modified, Accept-Ranges, Content-Range, Location,
  // Allow, as the answer needs them. The session adds Date, Server and Connection.
  Headers headers;
  std::filesystem::path file;  // what from_file parts read
  std::vector<BodyPart> body;  // the body as a GET sends it (HEAD sends the same headers only)
  std::uint64_t body_size() const;
};

// What the answer depends on besides the path.
struct StaticRequest {
  std::string_view method;  // GET and HEAD are served; any other method on an existing path: 405
  std::string_view path;    // the request target's path, raw (not decoded), without the query
  std::string_view query;   // kept on a redirect to the folder's slash form ("" for none)
  std::optional<std::string_view> if_none_match, if_modified_since, range, if_range;
};

struct DocrootOptions {
  bool listing = true;     // an HTML listing for a folder without index.html; false: 403
  TimePoint clock;         // Last-Modified of every file (a listing has no validators)
  std::uint64_t seed = 0;  // multipart boundaries
};

class Docroot {
 public:
  // `root` must be an existing folder (the caller checks it at load time); throws
  // std::filesystem::filesystem_error when it does not exist.
  Docroot(std::filesystem::path root, DocrootOptions options);

  // The answer for this request, or nullopt when the path names nothing in the root (the fake
  // tries CGI, then 404). Answers:
  // - 400 for a path normalize_path() calls bad_request;
  // - a file: 200 (or 206, 416, 304 per the conditional and Range headers: If-None-Match before
  //   If-Modified-Since, If-Range with an ETag or a date); a 304 has only ETag and Last-Modified
  //   and no body; Content-Type comes from the name asked for (a symlink's target may differ);
  // - a path with a trailing slash that names a file: nullopt;
  // - a folder without a trailing slash: 301 to PATH/ (query kept);
  // - a folder: its index.html as a file, else the listing (200, text/html, no validators, so
  //   no 304 and no ranges: it changes with the folder, which the fixed clock would not show) or
  //   403 when listing is off or the folder cannot be read; the listing shows only folders and
  //   regular files whose real path is inside the root;
  // - something that is neither a regular file nor a folder (a FIFO, a socket): 403;
  // - a method other than GET/HEAD on anything that exists: 405 with `Allow: GET, HEAD, OPTIONS`
  //   (the session answers OPTIONS itself).
  // 400, 403, 405, 416 and 301 carry a one-line text/plain body.
  // The file is read only by the caller; this stats and lists but never reads file content.
  std::optional<StaticAnswer> answer(const StaticRequest& request) const;

  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;       // as given
  std::filesystem::path real_root_;  // canonical
  DocrootOptions options_;
};

// The HTML listing of a folder: a title and one link per entry (folders first, each with a
// trailing '/', then files with their size in bytes), names sorted bytewise, escaped, links
// relative and percent-encoded (a name with ':' gets "./" so that it cannot read as a scheme);
// "../" first unless `url_path` is "/". A complete HTML5 document, the same bytes every time.
struct ListingEntry {
  std::string name;
  bool folder = false;
  std::uint64_t size = 0;
};
std::string directory_listing(std::string_view url_path, std::vector<ListingEntry> entries);

}  // namespace protofarm::http
