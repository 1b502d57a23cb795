#include "fakes/http/cgi.hpp"

#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace protofarm::http {

namespace fs = std::filesystem;

namespace {

using Variables = std::vector<std::pair<std::string, std::string>>;

// RFC 9110 5.6.2: tchar.
bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return ascii_upper(x) == ascii_upper(y); });
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// --- locate_script
// --------------------------------------------------------------------------------

// Whether `path`, symlinks resolved, is `real_dir` or below it. Compared component by component:
// as strings, "/srv/cgi-bin2/x" would pass for a place inside "/srv/cgi-bin".
bool resolves_inside(const fs::path& real_dir, const fs::path& path) {
  std::error_code ec;
  const fs::path real = fs::canonical(path, ec);
  if (ec) return false;
  return std::mismatch(real_dir.begin(), real_dir.end(), real.begin(), real.end()).first ==
         real_dir.end();
}

// --- cgi_environment
// ------------------------------------------------------------------------------

const std::string* find_header(const Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return &v;
  return nullptr;
}

// RFC 3875 4.1.18: "HTTP_" + the field name in upper case with '-' made '_'.
std::string http_variable_name(std::string_view field_name) {
  std::string name = "HTTP_";
  for (char c : field_name) name += c == '-' ? '_' : ascii_upper(c);
  return name;
}

// Fields the script gets elsewhere (CONTENT_LENGTH, CONTENT_TYPE) or must not get: credentials
// (RFC 3875 4.1.18) and Proxy, which would become HTTP_PROXY, the proxy setting of many HTTP
// libraries (httpoxy). Compared by variable name, so "Content_Type" is withheld as well.
bool withheld(std::string_view variable) {
  static constexpr std::string_view kWithheld[] = {"HTTP_CONTENT_LENGTH", "HTTP_CONTENT_TYPE",
                                                   "HTTP_AUTHORIZATION", "HTTP_PROXY_AUTHORIZATION",
                                                   "HTTP_PROXY"};
  return std::find(std::begin(kWithheld), std::end(kWithheld), variable) != std::end(kWithheld);
}

// RFC 3875 4.1.18: repeated fields become one value with the same meaning. For list fields that
// is the comma join of RFC 9110 5.3; cookie-pairs are separated by "; " (RFC 6265 4.2.1), and a
// comma there would glue two cookies into one value.
std::string_view join_separator(std::string_view variable) {
  return variable == "HTTP_COOKIE" ? "; " : ", ";
}

void add_header_variables(const Headers& headers, Variables& vars) {
  Variables fields;
  for (const auto& [name, value] : headers) {
    // A name that is not a token cannot come from a well-formed request, and could make an
    // odd or empty variable name.
    if (!is_token(name)) continue;
    std::string variable = http_variable_name(name);
    if (withheld(variable)) continue;
    const auto same = std::find_if(fields.begin(), fields.end(),
                                   [&](const auto& f) { return f.first == variable; });
    if (same == fields.end()) {
      fields.emplace_back(std::move(variable), value);
    } else {
      same->second += join_separator(variable);
      same->second += value;
    }
  }
  vars.insert(vars.end(), fields.begin(), fields.end());
}

// --- parse_cgi_output
// -----------------------------------------------------------------------------

CgiResponse invalid(std::string error) {
  CgiResponse response;
  response.kind = CgiResponse::Kind::invalid;
  response.error = std::move(error);
  return response;
}

// RFC 3875 6.3: field-content is tokens, separators and quoted strings: no control characters
// but HT. A CR would let the script split the response it is embedded in.
bool has_control(std::string_view value) {
  return std::any_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7f;
  });
}

// RFC 3875 6.3.3: Status = status-code SP reason-phrase; the reason may be empty. Codes outside
// 100..599 mean nothing to an HTTP client.
bool parse_status(std::string_view value, CgiResponse& response) {
  if (value.size() < 3 || (value.size() > 3 && value[3] != ' ')) return false;
  unsigned code = 0;
  for (char c : value.substr(0, 3)) {
    if (c < '0' || c > '9') return false;
    code = code * 10 + static_cast<unsigned>(c - '0');
  }
  if (code < 100 || code > 599) return false;
  response.status = code;
  response.reason = std::string(trim(value.substr(3)));
  return true;
}

// RFC 3875 6.3.2: an absoluteURI starts with a scheme (a letter, then letters, digits, '+', '-'
// or '.') and ':', and RFC 2396's hier-part or opaque-part after it is never empty.
bool is_absolute_uri(std::string_view uri) {
  const std::size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == uri.size()) return false;
  const std::string_view scheme = uri.substr(0, colon);
  const auto scheme_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '-' || c == '.';
  };
  const char first = ascii_upper(scheme.front());
  return first >= 'A' && first <= 'Z' && std::all_of(scheme.begin(), scheme.end(), scheme_char);
}

// The CGI fields of RFC 3875 6.3, each allowed once.
struct CgiFields {
  std::optional<std::string> content_type, location, status;
};

std::optional<std::string>* cgi_field(CgiFields& fields, std::string_view name) {
  if (iequals(name, "Content-Type")) return &fields.content_type;
  if (iequals(name, "Location")) return &fields.location;
  if (iequals(name, "Status")) return &fields.status;
  return nullptr;
}

}  // namespace

ScriptLocation locate_script(const fs::path& dir, std::string_view prefix,
                             std::string_view decoded_path) {
  ScriptLocation location;
  // A NUL would end the name at the system call and so name another file.
  if (!decoded_path.starts_with(prefix) || decoded_path.find('\0') != std::string_view::npos)
    return location;
  std::error_code ec;
  const fs::path real_dir = fs::canonical(dir, ec);
  if (ec) return location;
  fs::path candidate = fs::absolute(dir, ec);
  if (ec) return location;
  std::size_t pos = prefix.size();
  while (pos < decoded_path.size()) {
    const std::size_t end = std::min(decoded_path.find('/', pos), decoded_path.size());
    candidate /= decoded_path.substr(pos, end - pos);
    const fs::file_status status = fs::status(candidate, ec);
    if (ec || !resolves_inside(real_dir, candidate)) return location;
    if (fs::is_directory(status)) {
      pos = end + 1;
      continue;
    }
    // Something that is there but cannot run is refused rather than hidden, as a static file
    // server answers 403 for a FIFO.
    if (!fs::is_regular_file(status) || ::access(candidate.c_str(), X_OK) != 0) {
      location.status = ScriptLocation::Status::forbidden;
      return location;
    }
    location.status = ScriptLocation::Status::ok;
    location.file = candidate.lexically_normal();
    location.script_name = std::string(decoded_path.substr(0, end));
    location.path_info = std::string(decoded_path.substr(end));
    return location;
  }
  return location;  // the prefix itself, or folders only
}

std::vector<std::string> cgi_environment(const CgiRequest& request, const fs::path& script_file) {
  std::string request_uri = request.script_name + request.path_info;
  if (!request.query.empty()) request_uri += "?" + request.query;
  Variables vars = {
      {"AUTH_TYPE", request.auth_type},
      {"GATEWAY_INTERFACE", "CGI/1.1"},
      {"PATH", "/usr/local/bin:/usr/bin:/bin"},
      {"PATH_INFO", request.path_info},
      {"QUERY_STRING", request.query},
      {"REMOTE_ADDR", request.remote_addr},
      {"REMOTE_HOST", request.remote_addr},  // RFC 3875 4.1.9 allows the address: no DNS
      {"REMOTE_PORT", std::to_string(request.remote_port)},
      {"REQUEST_METHOD", request.method},
      {"REQUEST_URI", std::move(request_uri)},
      {"SCRIPT_FILENAME", script_file.string()},
      {"SCRIPT_NAME", request.script_name},
      {"SERVER_NAME", request.server_name},
      {"SERVER_PORT", std::to_string(request.server_port)},
      {"SERVER_PROTOCOL", request.protocol},
      {"SERVER_SOFTWARE", "protofarm"},
  };
  // RFC 3875 4.1.2: if and only if there is a body.
  if (request.content_length)
    vars.emplace_back("CONTENT_LENGTH", std::to_string(*request.content_length));
  // RFC 3875 4.1.3: whenever the request has the field, body or not.
  if (const std::string* type = find_header(request.headers, "Content-Type"))
    vars.emplace_back("CONTENT_TYPE", *type);
  // RFC 3875 4.1.6: unset when PATH_INFO is empty.
  if (!request.path_info.empty() && !request.path_translated.empty())
    vars.emplace_back("PATH_TRANSLATED", request.path_translated);
  if (!request.remote_user.empty()) vars.emplace_back("REMOTE_USER", request.remote_user);
  if (request.https) vars.emplace_back("HTTPS", "on");
  add_header_variables(request.headers, vars);

  // posix_spawn takes NUL-terminated strings: a value with a NUL inside would be cut short.
  std::erase_if(vars, [](const auto& v) { return v.second.find('\0') != std::string::npos; });
  // Sorted by name: sorting the "NAME=value" strings would put "HTTP_X1=" before "HTTP_X="
  // ('1' < '=').
  std::sort(vars.begin(), vars.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> env;
  env.reserve(vars.size());
  for (const auto& [name, value] : vars) env.push_back(name + "=" + value);
  return env;
}

CgiResponse parse_cgi_output(std::string_view output) {
  CgiResponse response;
  CgiFields fields;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t lf = output.find('\n', pos);
    if (lf == std::string_view::npos) return invalid("no end of headers (an empty line)");
    std::string_view line = output.substr(pos, lf - pos);
    pos = lf + 1;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) break;

    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return invalid("header line without ':'");
    // RFC 3875 6.3: no whitespace before the ':', and no continuation lines (those start with
    // whitespace): both fail here.
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return invalid("bad header name '" + std::string(name) + "'");
    const std::string_view value = trim(line.substr(colon + 1));
    if (has_control(value)) return invalid("control character in " + std::string(name));
    if (value.empty()) continue;  // RFC 3875 6.3: the same as not sending the field

    if (std::optional<std::string>* field = cgi_field(fields, name)) {
      if (*field) return invalid(std::string(name) + " given twice");  // RFC 3875 6.3
      *field = std::string(value);
      if (field == &fields.status) continue;  // it becomes the status line
    }
    response.headers.emplace_back(name, value);
  }
  response.body = std::string(output.substr(pos));

  if (!fields.content_type && !fields.location && !fields.status)
    return invalid("no Content-Type, Location or Status");  // RFC 3875 6.3
  if (fields.status && !parse_status(*fields.status, response))
    return invalid("bad Status '" + *fields.status + "'");

  if (fields.location) {
    response.location = *fields.location;
    if (response.location.starts_with('/')) {
      // RFC 3875 6.2.2: the server answers as for a request of that path, so anything else the
      // script said would be lost.
      if (response.headers.size() != 1 || fields.status || !response.body.empty())
        return invalid("a local redirect with other header fields or a body");
      response.kind = CgiResponse::Kind::local_redirect;
      return response;
    }
    if (!is_absolute_uri(response.location))
      return invalid("Location is neither a local path nor an absolute URI");
    response.kind = CgiResponse::Kind::client_redirect;  // RFC 3875 6.2.3 and 6.2.4
    if (!fields.status) response.status = 302;
  } else {
    response.kind = CgiResponse::Kind::document;
  }
  // RFC 3875 6.3.1: a body needs a Content-Type, and the server should not guess one.
  if (!response.body.empty() && !fields.content_type) return invalid("a body without Content-Type");
  return response;
}

bool is_nph(std::string_view script_name) {
  const std::size_t slash = script_name.rfind('/');
  const std::string_view file =
      slash == std::string_view::npos ? script_name : script_name.substr(slash + 1);
  return file.starts_with("nph-");
}

}  // namespace protofarm::http
