#include "fakes/ftp/ftp_codec.hpp"

#include <boost/asio/ip/address.hpp>
#include <charconv>
#include <ctime>

#include "fakes/common/bytes.hpp"

namespace protofarm::ftp {

namespace {

constexpr unsigned char kIac = 0xFF;

std::optional<unsigned> number(std::string_view s, unsigned max) {
  unsigned v = 0;
  if (s.empty() || s.size() > 5) return std::nullopt;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(
        s.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::tm utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}

std::string pad_left(std::string s, std::size_t width) {
  if (s.size() < width) s.insert(0, width - s.size(), ' ');
  return s;
}

}  // namespace

Command parse_command(std::string_view line) {
  Command c;
  std::string clean;
  clean.reserve(line.size());
  for (std::size_t i = 0; i < line.size(); ++i) {
    const auto b = static_cast<unsigned char>(line[i]);
    if (b == kIac && i + 1 < line.size()) {
      const auto next = static_cast<unsigned char>(line[i + 1]);
      ++i;
      if (next == kIac) clean.push_back(static_cast<char>(kIac));
      // WILL/WONT/DO/DONT carry an option byte.
      else if (next >= 251 && next <= 254 && i + 1 < line.size())
        ++i;
      continue;
    }
    clean.push_back(line[i]);
  }
  std::string_view s = clean;
  if (s.ends_with('\n')) {
    s.remove_suffix(1);
    if (s.ends_with('\r'))
      s.remove_suffix(1);
    else
      c.bare_lf = true;
  }
  c.has_nul = s.find('\0') != std::string_view::npos;
  // Some clients put spaces before the verb; none put anything else there.
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const std::size_t space = s.find(' ');
  c.verb = to_upper(s.substr(0, space));
  if (space != std::string_view::npos) c.arg = std::string(s.substr(space + 1));
  return c;
}

std::optional<HostPort> parse_port(std::string_view arg) {
  const auto parts = split(arg, ',');
  if (parts.size() != 6) return std::nullopt;
  unsigned v[6];
  for (std::size_t i = 0; i < 6; ++i) {
    std::string_view p = parts[i];
    while (!p.empty() && p.front() == ' ') p.remove_prefix(1);
    while (!p.empty() && p.back() == ' ') p.remove_suffix(1);
    const auto n = number(p, 255);
    if (!n) return std::nullopt;
    v[i] = *n;
  }
  HostPort hp;
  hp.host = std::to_string(v[0]) + "." + std::to_string(v[1]) + "." + std::to_string(v[2]) + "." +
            std::to_string(v[3]);
  hp.port = static_cast<std::uint16_t>(v[4] * 256 + v[5]);
  if (hp.port == 0) return std::nullopt;
  return hp;
}

std::optional<HostPort> parse_eprt(std::string_view arg, bool& unsupported_family) {
  unsupported_family = false;
  if (arg.size() < 7) return std::nullopt;
  const char d = arg.front();
  // RFC 2428 2: the delimiter is any printable ASCII character but digits, usually '|'.
  if (d < 33 || d > 126 || (d >= '0' && d <= '9')) return std::nullopt;
  const auto parts = split(arg, d);
  // "" proto addr port ""
  if (parts.size() != 5 || !parts[0].empty() || !parts[4].empty()) return std::nullopt;
  const auto family = number(parts[1], 65535);
  const auto port = number(parts[3], 65535);
  if (!family || !port || *port == 0) return std::nullopt;
  if (*family != 1 && *family != 2) {
    unsupported_family = true;
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(parts[2]), ec);
  if (ec || address.is_v6() != (*family == 2)) return std::nullopt;
  HostPort hp;
  hp.host = address.to_string();
  hp.port = static_cast<std::uint16_t>(*port);
  hp.v6 = address.is_v6();
  return hp;
}

std::string unmap_v4(std::string_view host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(std::string(host), ec);
  if (!ec && address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  return std::string(host);
}

int address_family(std::string_view host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(unmap_v4(host), ec);
  return !ec && address.is_v6() ? 2 : 1;
}

std::optional<std::string> pasv_reply(std::string_view host, std::uint16_t port) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(unmap_v4(host), ec);
  if (ec || !address.is_v4()) return std::nullopt;
  const auto b = address.to_v4().to_bytes();
  std::string text = "Entering Passive Mode (";
  for (const unsigned char x : b) text += std::to_string(x) + ",";
  text += std::to_string(port / 256) + "," + std::to_string(port % 256) + ").";
  return reply(227, text);
}

std::string epsv_reply(std::uint16_t port) {
  return reply(229, "Entering Extended Passive Mode (|||" + std::to_string(port) + "|)");
}

std::optional<std::string> resolve_path(std::string_view cwd, std::string_view arg) {
  if (arg.find('\0') != std::string_view::npos || arg.find('\\') != std::string_view::npos)
    return std::nullopt;
  std::vector<std::string_view> parts;
  auto walk = [&](std::string_view p) {
    for (std::string_view part : split(p, '/')) {
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!parts.empty()) parts.pop_back();
        continue;
      }
      parts.push_back(part);
    }
  };
  if (!arg.starts_with('/')) walk(cwd);
  walk(arg);
  std::string out;
  for (std::string_view part : parts) {
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

std::string parent_of(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string base_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string quote_path(std::string_view path) {
  std::string out = "\"";
  for (const char c : path) {
    out += c;
    if (c == '"') out += '"';
  }
  return out + "\"";
}

std::string ftp_time(std::chrono::system_clock::time_point t) {
  const std::tm tm = utc(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d%H%M%S", &tm);
  return buf;
}

std::string list_line(const EntryInfo& e, ListFormat format,
                      std::chrono::system_clock::time_point now) {
  const std::tm tm = utc(e.mtime);
  char when[32];
  if (format == ListFormat::dos) {
    std::strftime(when, sizeof when, "%m-%d-%y  %I:%M%p", &tm);
    std::string line = when;
    // IIS: the size right-aligned in 21 columns after the time, so that names line up with
    // those after "<DIR>".
    line += e.dir ? "       <DIR>          " : pad_left(std::to_string(e.size), 21) + " ";
    return line + e.name + "\r\n";
  }
  std::string perms = e.dir ? "d" : "-";
  for (int shift = 6; shift >= 0; shift -= 3) {
    const unsigned bits = (e.mode >> shift) & 7u;
    perms += (bits & 4u) ? 'r' : '-';
    perms += (bits & 2u) ? 'w' : '-';
    perms += (bits & 1u) ? 'x' : '-';
  }
  // ls -l: the time for the last six months, the year for anything older or in the future.
  const auto age = now - e.mtime;
  const bool recent = age >= std::chrono::seconds(0) && age < std::chrono::hours(24 * 182);
  std::strftime(when, sizeof when, recent ? "%b %d %H:%M" : "%b %d  %Y", &tm);
  return perms + pad_left(e.dir ? "2" : "1", 4) + " ftp      ftp      " +
         pad_left(std::to_string(e.size), 8) + " " + when + " " + e.name + "\r\n";
}

std::string mlsx_facts(const EntryInfo& e, std::string_view type_override) {
  std::string facts = "type=";
  facts += type_override.empty() ? (e.dir ? "dir" : "file") : type_override;
  if (!e.dir) facts += ";size=" + std::to_string(e.size);
  facts += ";modify=" + ftp_time(e.mtime);
  // RFC 3659 7.5.5: files r (retrieve), a/w (append, store), d/f (delete, rename); folders e
  // (enter), l (list), c/m/p (create, make folder, purge).
  std::string perm = e.dir ? "el" : "r";
  if (e.writable) perm += e.dir ? "cmpdf" : "adfw";
  facts += ";perm=" + perm;
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", e.mode & 07777u);
  facts += ";UNIX.mode=";
  facts += mode;
  return facts + "; " + e.name;
}

std::string AsciiEncoder::encode(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size() + chunk.size() / 32);
  for (const char c : chunk) {
    if (c == '\n' && !last_cr_) out += '\r';
    out += c;
    last_cr_ = c == '\r';
  }
  return out;
}

std::string AsciiDecoder::decode(std::string_view chunk) {
  std::string out;
  out.reserve(chunk.size());
  for (const char c : chunk) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c == '\n') {
        out += '\n';
        continue;
      }
      out += '\r';
    }
    if (c == '\r') {
      pending_cr_ = true;
      continue;
    }
    out += c;
  }
  return out;
}

std::string AsciiDecoder::finish() {
  if (!pending_cr_) return {};
  pending_cr_ = false;
  return "\r";
}

std::string reply(int code, std::string_view text) {
  return std::to_string(code) + " " + std::string(text) + "\r\n";
}

std::string reply(int code, const std::vector<std::string>& lines) {
  if (lines.size() <= 1) return reply(code, lines.empty() ? std::string_view{} : lines[0]);
  std::string out = std::to_string(code) + "-" + lines.front() + "\r\n";
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) out += lines[i] + "\r\n";
  return out + std::to_string(code) + " " + lines.back() + "\r\n";
}

}  // namespace protofarm::ftp
