// The pop3 server's own scenario keys (scenarios/README.md#pop3), parsed at load time.
//
// parse_config() reads the keys of one `protocol: pop3` server, fills the server's MailStore
// with its mailboxes and messages (inline text or .eml files relative to the scenario file), and
// reports every problem into cfg.errors() at its line and column; it never throws and never
// opens a socket.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fakes/common/config.hpp"
#include "fakes/common/tls.hpp"
#include "fakes/pop3/mail_store.hpp"
#include "fakes/pop3/pop3_codec.hpp"

namespace protofarm::pop3 {

struct Config {
  std::string greeting = "protofarm POP3 server ready";
  std::string hostname = "localhost";         // in the default APOP timestamp
  std::optional<std::string> apop_timestamp;  // a fixed timestamp for every session
  // Which ways to log in are offered (`auth:`): USER/PASS, APOP, SASL PLAIN, SASL LOGIN.
  bool user_login = true;
  bool apop = true;
  bool sasl_plain = true;
  bool sasl_login = true;
  bool require_tls = false;  // refuse every login until the connection is TLS
  bool offer_stls = false;   // tls: starttls
  std::string implementation = "protofarm";
  std::size_t max_command = kMaxCommandLine;
  std::vector<std::string> deliveries_from;  // smtp servers whose accepted mail arrives here
};

// What parse_config needs to know about the rest of the scenario.
struct ConfigContext {
  std::string scenario_file;                            // .eml paths are relative to it
  std::map<std::string, std::string> server_protocols;  // for deliveries_from
  TlsMode tls = TlsMode::none;
  std::optional<std::size_t> max_line;  // the server's `max_line` when given
};

Config parse_config(const Cfg& cfg, const ConfigContext& context, MailStore& store);

}  // namespace protofarm::pop3
