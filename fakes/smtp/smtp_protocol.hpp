// The SMTP protocol of one session, as a state machine without I/O.
//
// The session (smtp_fake.cpp) reads a line, parses it (smtp_codec.hpp), lets the rules answer,
// and otherwise calls handle(); it sends the Outcome's reply and carries out its effect (read a
// DATA body, start TLS, go on with an AUTH exchange, close). Everything RFC 5321, 3207, 4954,
// 1870, 6152, 6531 and 3030 say about which command is valid in which state, and what the reply
// is, lives here, one handler per verb, so a conversation is unit-tested as strings
// (tests/unit/smtp_protocol_test.cpp).
//
// When a rule answers instead of the built-in behaviour, follow_reply() keeps the state in step
// with the code the rule replied with, as a real server's state follows its own replies: a 250
// to RCPT adds the recipient, a 354 to DATA starts reading the body, a 220 to STARTTLS starts
// TLS, any 421 closes the connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/common/recorder.hpp"
#include "fakes/common/sasl.hpp"
#include "fakes/smtp/smtp_codec.hpp"

namespace protofarm::smtp {

// The smtp server's own scenario keys, parsed (scenarios/README.md#smtp).
struct Options {
  std::string server;                  // the server's name (queue ids, CRAM-MD5 challenges)
  std::string hostname = "localhost";  // in the greeting, EHLO and HELO replies
  std::vector<std::string> greeting;   // the 220 reply's lines; default "<hostname> ESMTP ..."
  // The EHLO keywords, in order, as advertised: SIZE gets the size limit, AUTH the mechanisms;
  // other entries are sent as written. STARTTLS is never offered once TLS is active.
  std::vector<std::string> extensions;
  // 10 MiB; 0: no fixed limit (RFC 1870 "SIZE")
  std::uint64_t size_limit = std::uint64_t{10} * 1024 * 1024;
  std::vector<std::string> auth_mechanisms = {"PLAIN", "LOGIN", "CRAM-MD5"};
  std::map<std::string, std::string> users;  // AUTH user name -> password
  bool require_auth = false;                 // MAIL needs a successful AUTH first (530)
  bool require_tls = false;                  // MAIL and AUTH need TLS first (530)
  bool tls_configured = false;               // `tls: starttls`: STARTTLS can start TLS
  EndOfData end_of_data = EndOfData::strict;
  std::size_t max_recipients = 100;  // RFC 5321 4.5.3.1.8: at least 100 must be accepted
  std::uint64_t seed = 0;
};

// The extensions advertised when a scenario lists none.
std::vector<std::string> default_extensions(bool starttls, bool auth);
// Every extension keyword whose behaviour the fake implements.
const std::vector<std::string>& known_extensions();

enum class Effect {
  none,
  read_data,       // the 354 went out: read the message body
  start_tls,       // the 220 went out: the handshake follows
  auth,            // a 334 went out: read the client's SASL response
  message,         // BDAT LAST arrived: the message stage answers (end_of_message)
  accept_message,  // a rule accepted the message: record and deliver it, no further reply
  close,           // the reply ends the session (QUIT, 421)
};

struct Outcome {
  std::optional<Reply> reply;  // none for BDAT LAST, whose reply is the message's
  Effect effect = Effect::none;
  // Named transcript events (auth, message_aborted), recorded after the reply is sent.
  std::vector<std::pair<std::string, Json>> events;
  bool accepted = false;  // end_of_message: whether the message was accepted
  std::string queue_id;   // ... and its queue id
  std::string reason;     // ... or why not ("size", "line_too_long")
};

// One mail transaction (RFC 5321 3.3), from MAIL to the end of its message.
struct Envelope {
  std::string mail_from;
  std::vector<std::string> recipients;
  std::optional<std::uint64_t> declared_size;  // SIZE=
  std::string body;                            // BODY= (upper case), "" when not given
  bool smtputf8 = false;
  bool chunking = false;  // BDAT was used
  std::uint64_t rcpt_attempts = 0;
};

// What the session read of a message body.
struct Body {
  std::uint64_t size = 0;        // octets of the message (unstuffed)
  std::uint64_t long_lines = 0;  // lines over 1000 octets
};

class Protocol {
 public:
  // `now` is the scenario clock's time when the session started (CRAM-MD5 challenges).
  Protocol(const Options& options, std::uint64_t session, bool tls_active,
           std::chrono::system_clock::time_point now = {});

  Reply greeting() const;
  // Renders with enhanced status codes when ENHANCEDSTATUSCODES is advertised.
  std::string render(const Reply& reply) const;
  bool advertises(std::string_view keyword) const;

  // One command line; BDAT goes to bdat() instead, since its chunk is read first.
  Outcome handle(const Command& cmd);

  // BDAT: the chunk's size when the session must read it (CHUNKING is advertised and the
  // arguments are valid); otherwise nothing follows the command on the wire.
  std::optional<BdatArgs> bdat_args(const Command& cmd) const;
  // How many octets of the next chunk are worth keeping (the rest only counts toward SIZE).
  std::uint64_t chunk_room() const;
  // The chunk of `size` octets has been read; `kept` is its first chunk_room() octets.
  Outcome bdat(const Command& cmd, std::string_view kept, std::uint64_t size);

  // One SASL response line during AUTH (after Effect::auth).
  Outcome auth_response(std::string_view line);
  // An AUTH response line over kMaxAuthLine: the exchange fails (RFC 4954 4).
  Outcome auth_line_too_long();

  // The body is complete (DATA's end line, or BDAT LAST): the built-in reply, and the end of
  // the transaction. `number` is the message's number in the session, for its queue id.
  Outcome end_of_message(const Body& body, std::uint64_t number);
  // The reply instead of end_of_message's 250 when the accepted message could not be saved
  // (a full disk): RFC 3463's 452 4.3.1, so the client keeps the message and tries again.
  static Outcome not_saved();
  // The BDAT message so far (the session takes it for the message stage).
  std::string take_chunks() { return std::exchange(chunks_, {}); }
  std::uint64_t chunk_total() const { return chunk_total_; }

  // TLS is active now (after STARTTLS): RFC 3207 4.2, forget all knowledge from before.
  void tls_started();

  // A rule answered instead of the built-in behaviour, with a reply that starts with `code`
  // (0 when it does not start with a code): keeps the state in step, as a real server's state
  // follows its own replies (scenarios/README.md, "What a scripted reply does"), and returns what
  // follows. `cmd.verb` is the request's `on`: a command, CONNECT (the greeting) or MESSAGE (the
  // message stage; the transaction ends). For BDAT, `chunk` is the kept part of the chunk that
  // was read and `chunk_size` its size; a 2xx to BDAT LAST gives Effect::accept_message.
  Effect follow_reply(const Command& cmd, int code, std::string_view chunk = {},
                      std::uint64_t chunk_size = 0);

  const Envelope& envelope() const { return tx_; }
  bool in_transaction() const { return in_tx_; }
  bool tls_active() const { return tls_; }
  bool authenticated() const { return authenticated_; }
  const std::string& user() const { return user_; }

 private:
  // --- one handler per verb (RFC 5321 4.1.1, and the extensions' RFCs) -----------------------
  Outcome on_ehlo(const Command& cmd);
  Outcome on_helo(const Command& cmd);
  Outcome on_mail(const Command& cmd);
  Outcome on_rcpt(const Command& cmd);
  Outcome on_data(const Command& cmd);
  Outcome on_rset(const Command& cmd);
  Outcome on_noop(const Command& cmd);
  Outcome on_vrfy(const Command& cmd);
  Outcome on_expn(const Command& cmd);
  Outcome on_help(const Command& cmd);
  Outcome on_quit(const Command& cmd);
  Outcome on_starttls(const Command& cmd);
  Outcome on_auth(const Command& cmd);

  // --- helpers ----------------------------------------------------------------------------------
  std::vector<std::string> ehlo_lines() const;
  std::optional<Reply> check_mail_params(const std::vector<Param>& params);
  std::optional<Reply> check_rcpt_params(const std::vector<Param>& params) const;
  // The reply to a step of the AUTH exchange: a 334 challenge, or the outcome (RFC 4954 4, 6).
  Outcome auth_outcome(const SaslStep& step);
  void reset_transaction();

  const Options& options_;
  std::uint64_t session_;
  std::chrono::system_clock::time_point now_;
  std::vector<std::string> keywords_;  // upper-case keywords of options_.extensions
  bool tls_ = false;
  bool greeted_ = false;
  bool esmtp_ = false;
  bool no_service_ = false;  // the greeting was 554 (RFC 5321 3.1)
  bool authenticated_ = false;
  std::string user_;
  bool in_tx_ = false;
  Envelope tx_;
  std::string chunks_;
  std::uint64_t chunk_total_ = 0;
  SaslExchange auth_;  // the AUTH exchange, active while the client owes a response
};

}  // namespace protofarm::smtp
