// The POP3 protocol of one session, as a state machine without I/O.
//
// The session (pop3_fake.cpp) reads a line, parses it (pop3_codec.hpp), lets the rules answer,
// and otherwise calls handle(); it sends the Reply's bytes and carries out its effect (start
// TLS after STLS, close after QUIT). Everything RFC 1939, 2449, 2595 and 5034 say about which
// command is valid in which state, and what the reply is, lives here, one handler per verb, so
// a conversation can be unit-tested as strings (tests/unit/pop3_protocol_test.cpp).
//
// The Protocol holds its mailbox's lock from a successful login until it is destroyed; only a
// QUIT in the TRANSACTION state removes the messages marked deleted (RFC 1939 6). A session
// that ends any other way (the client vanishes, a timeout, a rule's `then: close`) changes
// nothing in the mailbox.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/common/recorder.hpp"
#include "fakes/common/sasl.hpp"
#include "fakes/pop3/mail_store.hpp"
#include "fakes/pop3/pop3_codec.hpp"
#include "fakes/pop3/pop3_config.hpp"

namespace protofarm::pop3 {

// RFC 1939 3. UPDATE is entered and left within the QUIT that causes it.
enum class State { authorization, transaction };
const char* to_string(State state);

enum class Effect { none, start_tls, close };

struct Reply {
  std::string bytes;
  Effect effect = Effect::none;
  // Named transcript events (login, auth_failed, update), recorded after the reply is sent.
  std::vector<std::pair<std::string, Json>> events;
};

class Protocol {
 public:
  // `timestamp` is this session's APOP timestamp ("<...>"), shown in the greeting when APOP is
  // offered. `tls_active` is true for implicit TLS.
  Protocol(const Config& config, MailStore& store, std::string timestamp, bool tls_active);
  ~Protocol();
  Protocol(const Protocol&) = delete;
  Protocol& operator=(const Protocol&) = delete;

  std::string greeting() const;
  // One command line. Never fails: bad input gets a -ERR reply.
  Reply handle(const Command& command);
  // While an AUTH exchange waits for the client's next line, that line goes to handle_sasl().
  bool awaiting_sasl() const { return sasl_.active(); }
  Reply handle_sasl(std::string_view line);
  // Ends an AUTH exchange without a reply (its line could not be read).
  void cancel_sasl() { sasl_.cancel(); }
  // The STLS handshake succeeded: RFC 2595 4, the client starts over (a USER given before is
  // forgotten) and STLS is no longer offered.
  void tls_started();

  // A rule answered instead of handle() (or greeting(), for `on: connect`: verb "CONNECT") with
  // a reply that is `positive` (+OK): keeps the state in step, as if the server had sent that
  // reply itself (scenarios/README.md, "What a scripted reply does"). A +OK to PASS or APOP logs
  // the user in without checking the password; to USER, DELE, RSET and STLS it does what they
  // do; QUIT closes either way (+OK in TRANSACTION also enters UPDATE); a -ERR greeting closes;
  // any other -ERR changes nothing. Only the effect and events of the Reply count.
  Reply follow_reply(const Command& c, bool positive);

  State state() const { return state_; }
  // The commands this protocol knows (for the rules' `on`).
  static std::vector<std::string> verb_names();
  const std::string& timestamp() const { return timestamp_; }
  bool tls_active() const { return tls_active_; }

 private:
  struct Entry {
    MessagePtr message;
    bool deleted = false;
  };
  using Handler = Reply (Protocol::*)(const Command&);
  struct VerbSpec {
    std::string_view name;
    Handler handler;
    bool authorization;  // valid in the AUTHORIZATION state
    bool transaction;    // valid in the TRANSACTION state
    std::size_t min_words, max_words;
    std::string_view usage;  // for syntax errors
  };
  static const std::vector<VerbSpec>& verbs();

  // --- AUTHORIZATION state: RFC 1939 4 and 7, RFC 2595 4, RFC 5034 4 ----------------------
  Reply on_user(const Command& c);
  Reply on_pass(const Command& c);
  Reply on_apop(const Command& c);
  Reply on_auth(const Command& c);
  Reply on_stls(const Command& c);
  // --- either state: RFC 2449 5, RFC 1939 6 --------------------------------------------------
  Reply on_capa(const Command& c);
  Reply on_quit(const Command& c);
  // --- TRANSACTION state: RFC 1939 5 and 7 ---------------------------------------------------
  Reply on_stat(const Command& c);
  Reply on_list(const Command& c);
  Reply on_uidl(const Command& c);
  Reply on_retr(const Command& c);
  Reply on_top(const Command& c);
  Reply on_dele(const Command& c);
  Reply on_rset(const Command& c);
  Reply on_noop(const Command& c);

  // Logs `user` in (the credentials are checked): locks the mailbox, takes the snapshot.
  Reply login(const std::string& user, const std::string& method);
  Reply auth_failed(const std::string& user, const std::string& method, std::string_view why);
  // The reply to a step of an AUTH exchange: a "+ " challenge, or the outcome (RFC 5034 4).
  Reply sasl_reply(const SaslStep& step);
  // Checks a user and password (USER/PASS; AUTH checks through sasl_).
  Reply check_password(const std::string& user, const std::string& password,
                       const std::string& method);
  // Whether logins are refused because TLS is required and not yet active.
  bool tls_required() const { return config_.require_tls && !tls_active_; }
  // The live (not deleted) entry for a message-number word, or an -ERR reply in `error`.
  Entry* message(std::string_view word, Reply& error);
  std::size_t number_of(const Entry& e) const;  // its message number, from 1
  std::size_t live_count() const;
  std::size_t live_octets() const;

  const Config& config_;
  MailStore& store_;
  std::string timestamp_;
  bool tls_active_;
  State state_ = State::authorization;
  SaslExchange sasl_;         // the AUTH exchange, active while the client owes a response
  std::string pending_user_;  // after USER
  bool have_user_ = false;
  Mailbox* mailbox_ = nullptr;  // locked while set
  std::vector<Entry> entries_;
};

}  // namespace protofarm::pop3
