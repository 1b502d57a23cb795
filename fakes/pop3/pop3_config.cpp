#include "fakes/pop3/pop3_config.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "fakes/common/bytes.hpp"
#include "fakes/common/content.hpp"
#include "fakes/common/rules.hpp"

namespace protofarm::pop3 {

namespace fs = std::filesystem;

namespace {

// One entry of `messages:`: a plain string (the message as text), or a map with one of text,
// hex, base64 or file, and an optional uid.
void parse_message(const Cfg& item, const ConfigContext& context, MailStore& store, Mailbox& box,
                   std::set<std::string>& uids) {
  std::optional<std::string> content;
  std::string origin = "scenario";
  std::string uid;
  if (item.is_scalar()) {
    content = item.node().Scalar();
  } else if (item.is_map()) {
    if (item.has("file")) {
      if (item.has("text") || item.has("hex") || item.has("base64")) {
        item.error("a message has one of text, hex, base64 or file");
        return;
      }
      const Cfg file = item["file"];
      fs::path path = file.str();
      if (path.is_relative()) path = fs::path(context.scenario_file).parent_path() / path;
      std::string why;
      content = read_regular_file(path.string(), kMaxLoadedFile, why);
      if (!content) {
        file.error("cannot read message file " + path.string() + ": " + why);
        return;
      }
      origin = "file:" + file.str();
    } else {
      // Reuse the payload reader for text/hex/base64 without the extra keys it does not know.
      YAML::Node payload(YAML::NodeType::Map);
      for (const char* key : {"text", "hex", "base64"})
        if (item.node()[key]) payload[key] = item.node()[key];
      if (payload.size() == 0) {
        item.error("a message has one of text, hex, base64 or file");
        return;
      }
      // Errors from the payload reader point at the message.
      content = parse_payload(Cfg(payload, item.path(), &item.errors(), item.mark()));
      if (!content) return;
    }
    if (item.has("uid")) {
      uid = item["uid"].str();
      if (!valid_unique_id(uid)) {
        item["uid"].error(
            "a uid is 1 to 70 printable ASCII characters without spaces (RFC 1939 7)");
        uid.clear();
      } else if (!uids.insert(uid).second) {
        item["uid"].error("uid '" + uid + "' is used twice in this mailbox");
        uid.clear();
      }
    }
  } else {
    item.error("expected a message: text, or a map with text, hex, base64 or file");
    return;
  }
  store.append(box, normalize_message(*content), uid, origin);
}

}  // namespace

Config parse_config(const Cfg& cfg, const ConfigContext& context, MailStore& store) {
  Config config;
  config.greeting = cfg.str_or("greeting", config.greeting);
  config.hostname = cfg.str_or("hostname", config.hostname);
  if (cfg.has("apop_timestamp")) {
    const std::string ts = cfg["apop_timestamp"].str();
    // RFC 1939 7: the timestamp is a msg-id, "<...>", in the greeting.
    if (ts.size() < 3 || ts.front() != '<' || ts.back() != '>' ||
        ts.find_first_of(" \r\n") != std::string::npos)
      cfg["apop_timestamp"].error("expected a timestamp like <1896.697170952@dbc.mtview.ca.us>");
    else
      config.apop_timestamp = ts;
  }
  for (const char* key : {"greeting", "hostname", "implementation"}) {
    const std::string value = cfg.str_or(key, "");
    if (value.find_first_of("\r\n") != std::string::npos) cfg[key].error("must be a single line");
  }
  config.implementation = cfg.str_or("implementation", config.implementation);

  if (cfg.has("auth")) {
    config.user_login = config.apop = config.sasl_plain = config.sasl_login = false;
    const Cfg auth = cfg["auth"];
    const std::vector<std::string> known = {"USER", "APOP", "PLAIN", "LOGIN"};
    auto method = [&](const Cfg& item) {
      const std::string m = to_upper(item.str());
      if (m == "USER")
        config.user_login = true;
      else if (m == "APOP")
        config.apop = true;
      else if (m == "PLAIN")
        config.sasl_plain = true;
      else if (m == "LOGIN")
        config.sasl_login = true;
      else
        item.error("unknown login method '" + item.str() +
                   "': expected USER, APOP, PLAIN or LOGIN" + did_you_mean(m, known));
    };
    if (auth.is_seq())
      auth.for_each_item(method);
    else if (auth.is_scalar())
      method(auth);
    else
      auth.error("expected a list of login methods, like [USER, APOP, PLAIN, LOGIN]");
  }
  config.require_tls = cfg.bool_or("require_tls", false);
  if (config.require_tls && context.tls == TlsMode::none)
    cfg["require_tls"].error("require_tls needs `tls: starttls` (or implicit) on this server");
  config.offer_stls = context.tls == TlsMode::starttls;
  if (context.max_line) config.max_command = *context.max_line;

  // Mailboxes, by user name.
  std::map<std::string, std::string> address_owner;
  const Cfg boxes = cfg["mailboxes"];
  boxes.for_each_entry([&](const std::string& user, const Cfg& spec) {
    Mailbox box;
    box.user = user;
    if (user.empty() || user.find_first_of(" \r\n") != std::string::npos)
      spec.error("a user name has no spaces or line ends");
    if (!spec.is_map()) {
      spec.error("expected a mailbox: a map with password, messages, address");
      return;
    }
    box.password = spec["password"].str();
    if (!spec.has("password")) spec.error("a mailbox needs a password");
    std::vector<std::string> addresses;
    for (const char* key : {"address", "addresses"})
      for (const auto& a : spec[key].str_list()) addresses.push_back(lower_ascii(a));
    // Without an address, a user name that is an address receives its own mail.
    if (!spec.has("address") && !spec.has("addresses") && user.find('@') != std::string::npos)
      addresses.push_back(lower_ascii(user));
    for (const auto& a : addresses) {
      if (auto [it, fresh] = address_owner.emplace(a, user); !fresh && it->second != user)
        spec.error("address " + a + " already belongs to mailbox '" + it->second + "'");
    }
    box.addresses = std::move(addresses);
    box.in_use = spec.bool_or("in_use", false);
    Mailbox& stored = store.add_mailbox(std::move(box));
    std::set<std::string> uids;
    spec["messages"].for_each_item(
        [&](const Cfg& item) { parse_message(item, context, store, stored, uids); });
    if (spec.has("messages") && !spec["messages"].is_seq())
      spec["messages"].error("expected a list of messages");
  });

  // The round trip: mail accepted by these smtp servers is delivered here.
  for (const auto& name : cfg["deliveries_from"].str_list()) {
    const auto it = context.server_protocols.find(name);
    if (it == context.server_protocols.end()) {
      std::vector<std::string> smtp;
      for (const auto& [n, p] : context.server_protocols)
        if (p == "smtp") smtp.push_back(n);
      cfg["deliveries_from"].error("no server named '" + name + "' in this scenario" +
                                   did_you_mean(name, smtp));
    } else if (it->second != "smtp") {
      cfg["deliveries_from"].error("server '" + name + "' is " + it->second +
                                   ", not smtp: only an smtp server delivers mail");
    } else {
      config.deliveries_from.push_back(name);
    }
  }
  if (cfg.has("catch_all")) {
    const std::string user = cfg["catch_all"].str();
    if (!store.find(user)) {
      std::vector<std::string> users;
      for (const auto& [u, b] : store.mailboxes()) users.push_back(u);
      cfg["catch_all"].error("no mailbox named '" + user + "'" + did_you_mean(user, users));
    } else {
      store.set_catch_all(user);
    }
    if (!cfg.has("deliveries_from"))
      cfg["catch_all"].error("catch_all only matters with deliveries_from");
  }
  return config;
}

}  // namespace protofarm::pop3
