// The ftp server's own scenario keys (scenarios/README.md#ftp) and its rule key `data:`, parsed at
// load time. parse_config() reports every problem into cfg.errors() at its line and column; it
// never throws and never opens a socket.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "fakes/common/channels.hpp"
#include "fakes/common/faults.hpp"
#include "fakes/common/rules.hpp"
#include "fakes/common/tls.hpp"
#include "fakes/ftp/file_tree.hpp"

namespace protofarm::ftp {

struct User {
  std::optional<std::string> password;  // nullopt: any password (anonymous)
  std::string home = "/";
  bool write = false;
};

struct Config {
  std::string greeting = "220 protofarm FTP ready";  // the whole first line, code included
  std::map<std::string, User, std::less<>> users;    // default: anonymous (and ftp) only
  PortRange passive_ports;                           // default: any free port
  std::optional<std::string> passive_address;        // default: the control connection's
  ListFormat list_format = ListFormat::unix;
  bool allow_foreign_port = false;  // PORT/EPRT may name a host other than the client
  TlsMode tls = TlsMode::none;
  bool require_session_reuse = false;  // data-channel TLS must resume the control session
  std::uint64_t max_upload = std::uint64_t{256} * 1024 * 1024;  // 552 beyond
  std::size_t max_command = kMaxCommandLine;
};

// What parse_config needs to know about the rest of the scenario.
struct ConfigContext {
  std::string scenario_file;  // {file: ...} entries are relative to its folder, and below it
  std::uint64_t seed = 0;     // generated content
  TimePoint clock;            // the default mtime
  TlsMode tls = TlsMode::none;
  bool require_session_reuse = false;
  std::optional<std::size_t> max_line;
};

Config parse_config(const Cfg& cfg, const ConfigContext& context, FileTree& tree);

// A rule's `data:` (scenarios/README.md, "Data-channel rule keys"): the built-in transfer runs,
// shaped like this, and the rule's reply (if any) replaces only the final reply.
struct DataShape final : RuleExtension {
  bool never_connect = false;                // connect: never
  std::optional<std::uint64_t> cut_after;    // close after N bytes sent or read
  std::optional<std::uint64_t> reset_after;  // reset instead
  Shaping shaping;                           // pace, fragment, gap
  bool replies_first = false;                // 150 and the final reply before any data
  std::optional<std::string> preliminary;    // the 1xx line's text (code included)
  bool keeps_builtin() const override { return true; }
};

// The rule syntax: the commands, and `data:` (only on transfer commands).
RuleSyntax rule_syntax();
// Whether a command opens a data connection (RETR, STOR, STOU, APPE, LIST, NLST, MLSD).
bool is_transfer_command(std::string_view verb);

}  // namespace protofarm::ftp
