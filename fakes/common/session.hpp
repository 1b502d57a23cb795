// What a stream fake works with during one connection: the connection, its framed reader, its
// transcript, its server (configuration, rules, services) and the helper that answers a request
// with the rules first and the built-in behaviour second.
//
// One rule for scripted replies, the same in every fake (scenarios/README.md, "What a scripted
// reply does"): a rule that answers with `reply` or `raw` stands in for the server's own reply,
// and the session goes on as if the server had sent that reply itself. After the scripted bytes
// are sent, the fake's ScriptedReplyHook receives the request and the reply's first line; the
// protocol reads the reply's status from it (a 3-digit code, +OK/-ERR, ...) and keeps its state in
// step: a success does what the command does when it succeeds (a 354 to DATA reads a message, a
// +OK to PASS logs in), a failure changes nothing, a closing reply (421, 400) closes. A reply
// with no status the protocol can read changes nothing. A rule's `then` comes first: with a
// `then`, the hook is told the session is ending (it may note what the reply meant, such as
// whether a message was accepted, but starts nothing), and the session ends as `then` says.
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
  // What the protocol's hook for scripted replies is told (see above).
  struct ScriptedReply {
    const Request& request;
    std::string_view status_line;  // the first line sent, without its line end ("" for none)
    bool ending = false;           // the rule has a `then`: note, but start nothing
  };
  using ScriptedReplyHook = std::function<Task<Flow>(const ScriptedReply& reply)>;

  Session(Server& server, Connection& conn, LineReader& reader)
      : server_(server), conn_(conn), reader_(reader), rules_(server.rules_ptr()) {}

  Server& server() { return server_; }
  // The server's rules as they were when the session began: rules replaced at run time (the
  // control API) apply to later sessions, and this one finishes under these.
  RuleEngine& rules() { return *rules_; }
  Connection& conn() { return conn_; }
  LineReader& reader() { return reader_; }
  SessionRecorder& rec() { return conn_.recorder(); }
  std::uint64_t number() const { return conn_.recorder().session(); }

  // Sets the protocol's hook for scripted replies (once, before the first answer()).
  void on_scripted_reply(ScriptedReplyHook hook) { scripted_hook_ = std::move(hook); }

  // Answers one request. The first rule that fires is recorded as a `rule` event; its delay is
  // waited; then its reply lines (each followed by line_end) or raw bytes are sent and the
  // scripted-reply hook runs, or, when it has neither, `builtin` runs with the rule's shaping
  // applied to what it sends; last its `then` (close, reset, hang) is done. Without a rule,
  // `builtin` runs alone. Returns Flow::end when the session is over.
  // (The request is taken by value: the coroutine outlives the caller's temporaries.)
  Task<Flow> answer(Request request, BuiltIn builtin, std::string_view line_end = "\r\n");
  // Records a `rule_error` event for each rule whose regex gave up in the last match (answer()
  // does it; a fake matching rules for other ends calls it itself).
  void record_rule_errors();
  // The same, for a rule the fake has matched itself (nullopt: no rule, `builtin` alone).
  Task<Flow> answer(std::optional<RuleMatch> match, Request request, BuiltIn builtin,
                    std::string_view line_end = "\r\n");
  Task<Flow> answer(std::string_view on, std::string_view args, BuiltIn builtin,
                    std::string_view line_end = "\r\n") {
    return answer(Request{on, args, {}}, std::move(builtin), line_end);
  }

  // The protocol ends the session after its reply (QUIT, a closing code): an orderly close,
  // unless the rule being answered has a `then`, which ends the connection its own way once the
  // built-in behaviour returns. Returns Flow::end.
  Task<Flow> end();

  // Upgrades the connection to TLS (STARTTLS, STLS, a script's starttls step). Input the
  // client pipelined behind the upgrade command arrived in the clear and is void (RFC 3207
  // 4.2, RFC 2595 4): it is recorded with "discarded": true and dropped. Without a certificate
  // (tls: none) a tls_failed event is recorded. Returns false when the session cannot go on.
  Task<bool> start_tls();

  // Sends bytes; while a rule is being answered they carry its shaping and name.
  Task<bool> send(std::string_view bytes);
  Task<bool> send_line(std::string_view line, std::string_view line_end = "\r\n");

  // The rule being answered, while its action runs (nullptr otherwise).
  const RuleMatch* active_rule() const { return active_ ? &*active_ : nullptr; }
  // The active rule's reply as it would be sent (captures substituted, each line followed by
  // line_end; raw bytes as they are); nullopt when there is no active rule or it has neither.
  // For a built-in that a rule extension keeps running (RuleExtension::keeps_builtin): it sends
  // this instead of its own final answer.
  std::optional<std::string> scripted_text(std::string_view line_end = "\r\n") const;

  // Saves a payload (a message, an upload, a post) under the session's files/ folder on the
  // recorder's writer thread, and resumes once it is on disk: returns its path relative to the
  // transcript folder, or "" when not recording or the write failed (then the fake must not
  // acknowledge the payload as saved). Other sessions go on meanwhile. The bytes are not
  // copied: they are the caller's, who waits here, until the writer has written them.
  Task<std::string> save(std::string name, std::string_view bytes);

  // Records a client frame with its parsed command.
  void record_client(std::string_view bytes, Json extra = nullptr) {
    rec().client(bytes, std::move(extra));
  }

 private:
  Server& server_;
  Connection& conn_;
  LineReader& reader_;
  std::shared_ptr<RuleEngine> rules_;
  std::optional<RuleMatch> active_;
  ScriptedReplyHook scripted_hook_;
};

// Records that a regex gave up (Boost's state budget, rules.hpp) as
// {"event": "rule_error", KEY: WHO, "error": ...}: KEY is "rule" with the rule's name, or "step"
// with a tcp script step's index.
void record_rule_error(SessionRecorder& rec, const char* key, Json who);
// One for each rule whose regex gave up in the rules' last match (RuleEngine::take_abandoned).
void record_rule_errors(SessionRecorder& rec, RuleEngine& rules);

// Carries out a rule's `then` after it answered. Returns Flow::end unless then is none.
Task<Flow> apply_then(Connection& conn, Then then);

// The first line of a scripted reply, without its line end: what a ScriptedReplyHook reads.
std::string_view first_line(std::string_view text);

}  // namespace protofarm
