// CGI/1.1 (RFC 3875) for the http fake, the pure parts: where a request's script is, the
// meta-variables it gets, and what its output means. Running the child is common/child_process's
// run_child(); the session (http_fake.cpp) ties them together.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace protofarm::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Where a request path lands in the CGI folder. The path after the prefix is walked segment by
// segment: the first segment that names a regular file is the script, and the rest of the path
// is PATH_INFO (RFC 3875 4.1.5). Only a file whose real path (symlinks resolved) is inside the
// folder's real path, and that is executable, may run.
struct ScriptLocation {
  // forbidden: the first segment that is not a folder exists but cannot run (a file that is not
  // executable, a FIFO or socket). not_found: a missing segment, a path that resolves outside the
  // folder, or no script at all (the prefix itself, a folder).
  enum class Status { ok, not_found, forbidden };
  Status status = Status::not_found;
  std::filesystem::path file;  // the script, absolute, by the name the request used (a symlink
                               // stays a symlink: scripts may look at their own name)
  std::string script_name;     // the URL path of the script: prefix + segments ("/cgi-bin/a.sh")
  std::string path_info;       // "" or "/rest/of/path" (decoded)
};
// `decoded_path` is the request's normalized, decoded path (docroot.hpp normalize_path); a path
// that does not start with `prefix` (which ends with '/') is not_found.
ScriptLocation locate_script(const std::filesystem::path& dir, std::string_view prefix,
                             std::string_view decoded_path);

struct CgiRequest {
  std::string method;           // REQUEST_METHOD
  std::string query;            // QUERY_STRING, as sent (not decoded), "" when none
  std::string script_name;      // SCRIPT_NAME
  std::string path_info;        // PATH_INFO ("" when none)
  std::string path_translated;  // PATH_TRANSLATED: docroot + PATH_INFO when both exist, else ""
  std::string protocol;         // SERVER_PROTOCOL: "HTTP/1.1"
  std::string server_name;      // SERVER_NAME: the Host header's name, else the local address
  std::uint16_t server_port = 0;
  std::string remote_addr;  // REMOTE_ADDR
  std::uint16_t remote_port = 0;
  std::string auth_type;    // AUTH_TYPE: the Authorization header's scheme ("Basic"), or ""
  std::string remote_user;  // REMOTE_USER: the Basic user name, or ""
  bool https = false;       // HTTPS=on
  std::optional<std::uint64_t> content_length;  // CONTENT_LENGTH when there is a body
  Headers headers;                              // the request's header fields as received
};
// The child's whole environment, "NAME=value" each, sorted by NAME: GATEWAY_INTERFACE=CGI/1.1,
// SERVER_SOFTWARE=protofarm, the variables above (CONTENT_TYPE from the header, empty ones
// given as empty strings where RFC 3875 says the variable is set, left out where it says it
// may be: CONTENT_LENGTH, CONTENT_TYPE, PATH_TRANSLATED, REMOTE_USER), REMOTE_HOST (the
// address: no DNS), REMOTE_PORT, HTTPS=on for https, REQUEST_URI, SCRIPT_FILENAME (as Apache
// does, for PHP-style scripts), PATH=/usr/local/bin:/usr/bin:/bin, and one HTTP_* per header
// field (upper case, '-' made '_', repeated fields joined with ", ", Cookie's with "; "), except
// Content-Length and Content-Type (already given), Authorization and Proxy-Authorization
// (RFC 3875 4.1.18: a server SHOULD withhold authentication data), Proxy (httpoxy), and names
// that are not HTTP tokens.
// REQUEST_URI is SCRIPT_NAME + PATH_INFO + "?" QUERY_STRING (no "?" when the query is empty):
// the decoded path, unlike Apache's, which is the request target as sent.
// A variable whose value holds a NUL is left out: the environment cannot carry it.
std::vector<std::string> cgi_environment(const CgiRequest& request,
                                         const std::filesystem::path& script_file);

// A script's response (RFC 3875 6): header lines (ending in LF or CRLF) up to an empty line,
// then the body.
struct CgiResponse {
  enum class Kind {
    document,         // a body, with Content-Type (status from Status:, else 200)
    local_redirect,   // Location: /path and nothing else: the server fetches that path (GET)
    client_redirect,  // Location: an absolute URI: 302 (or the Status: given) to the client
    invalid,          // no end of the header block, a malformed header line, no CGI field
                      // (Content-Type, Location, Status) or one given twice, no Content-Type
                      // for a body, a bad Status, a Location that is neither kind, a local
                      // redirect with anything else: the session answers 502
  };
  Kind kind = Kind::invalid;
  unsigned status = 200;  // a client redirect without Status: 302
  std::string reason;     // from Status: ("302 Found" gives "Found"); "" when none given
  // The script's header fields as written, in order, values trimmed, Content-Type and Location
  // included, Status left out; a field with an empty value is left out too (RFC 3875 6.3: it
  // is the same as not sending it).
  Headers headers;
  std::string location;  // for the redirects
  std::string body;
  std::string error;  // why it is invalid
};
CgiResponse parse_cgi_output(std::string_view output);

// nph- scripts (RFC 3875 5): their output is the whole HTTP response, passed through untouched.
bool is_nph(std::string_view script_name);

}  // namespace protofarm::http
