// What a stream fake works with during one connection: the connection, its framed reader, its
// transcript, its server (configuration, rules, services) and the helper that answers a request
// with the rules first and the built-in behaviour second.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "fakes/common/connection.hpp"
#include "fakes/common/fake.hpp"
#include "fakes/common/line_reader.hpp"

namespace protofarm {

enum class Flow { next, end };

class Session {
 public:
  using BuiltIn = std::function<Task<Flow>()>;

  Session(Server& server, Connection& conn, LineReader& reader)
      : server_(server), conn_(conn), reader_(reader) {}

  Server& server() { return server_; }
  Connection& conn() { return conn_; }
  LineReader& reader() { return reader_; }
  SessionRecorder& rec() { return conn_.recorder(); }
  std::uint64_t number() const { return conn_.recorder().session(); }

  // Answers one request (`on` plus `args`, as the rules see them). The first rule that fires
  // is recorded as a `rule` event; its delay is waited; then its reply lines (each followed
  // by line_end) or raw bytes are sent, or, when it has neither, `builtin` runs with the
  // rule's shaping applied to what it sends; last its `then` (close, reset, hang) is done.
  // Without a rule, `builtin` runs alone. Returns Flow::end when the session is over.
  Task<Flow> answer(std::string_view on, std::string_view args, BuiltIn builtin,
                    std::string_view line_end = "\r\n");

  // Upgrades the connection to TLS (STARTTLS, STLS, a script's starttls step). Input the
  // client pipelined behind the upgrade command arrived in the clear and is void (RFC 3207
  // 4.2, RFC 2595 4): it is recorded with "discarded": true and dropped. Without a certificate
  // (tls: none) a tls_failed event is recorded. Returns false when the session cannot go on.
  Task<bool> start_tls();

  // Sends bytes; while a rule is being answered they carry its shaping and name.
  Task<bool> send(std::string_view bytes);
  Task<bool> send_line(std::string_view line, std::string_view line_end = "\r\n");
  // The rule being answered, if any (inside answer()).
  const RuleMatch* rule() const { return active_ ? &*active_ : nullptr; }
  // The rule that fired in the last answer() that returned, or nullptr when the built-in
  // behaviour answered alone: lets a fake keep its protocol state in step with a scripted
  // reply (an SMTP "250" to RCPT adds the recipient).
  const Rule* last_rule() const { return last_rule_; }

  // Records a client frame with its parsed command.
  void record_client(std::string_view bytes, Json extra = nullptr) {
    rec().client(bytes, std::move(extra));
  }

 private:
  Server& server_;
  Connection& conn_;
  LineReader& reader_;
  std::optional<RuleMatch> active_;
  const Rule* last_rule_ = nullptr;
};

// Carries out a rule's `then` after it answered. Returns Flow::end unless then is none.
Task<Flow> apply_then(Connection& conn, Then then);

}  // namespace protofarm
