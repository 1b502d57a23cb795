// The server's side of a SASL exchange (RFC 4422) for the mechanisms the fakes offer: PLAIN
// (RFC 4616), LOGIN (draft-murchison-sasl-login) and CRAM-MD5 (RFC 2195).
//
// A pure state machine: it knows nothing of the protocol's framing. The protocol parses its
// AUTH command, calls start() with the mechanism and the initial response (if the client sent
// one), sends each challenge in its own framing, passes every line the client answers with to
// respond(), and turns the final SaslResult into its own reply. Challenges come out and
// responses go in as base64, the encoding every profile here uses (RFC 4954 4, RFC 5034 4,
// RFC 4643 2.4). Credentials are checked through a callback that returns a user's password,
// so the exchange holds no user data and CRAM-MD5 can compute the expected digest.
//
// Unit-tested in tests/unit/sasl_test.cpp.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace protofarm {

enum class SaslMechanism { plain, login, cram_md5 };
// The mechanism a name denotes, in any case ("plain", "CRAM-MD5"); nullopt for others.
std::optional<SaslMechanism> sasl_mechanism(std::string_view name);
// Its registered name, upper case ("CRAM-MD5").
std::string_view sasl_mechanism_name(SaslMechanism mechanism);

// Strict base64 as RFC 4954 4 requires of SASL responses: the standard alphabet, padded to a
// multiple of four, nothing else. "=" alone is the empty string (an empty initial response).
std::optional<std::string> decode_sasl_base64(std::string_view text);

// How strictly the client's responses are read. The defaults are what the RFCs say; a protocol
// whose fake has always been more forgiving keeps its own behaviour with the other settings.
struct SaslOptions {
  // true: decode_sasl_base64(). false: also the URL-safe alphabet and missing padding (still no
  // blanks), as forgiving servers read it.
  bool strict_base64 = true;
  // Whether "*" as the initial response cancels like a later "*" does. The grammar allows only
  // base64 or "=" there (RFC 4954 4, RFC 5034 4), so a strict server finds it undecodable.
  bool cancel_in_initial_response = false;
};

// Why an exchange ended without logging the user in.
enum class SaslFailure {
  none,                          // it did not fail: the user is authenticated
  cancelled,                     // the client sent "*" (RFC 4422 3.5)
  bad_base64,                    // a response was not base64
  initial_response_not_allowed,  // an initial response to a server-first mechanism (CRAM-MD5)
  malformed,                     // decoded, but not what the mechanism expects
  bad_credentials,               // no such user, or the wrong password or digest
  authzid,                       // PLAIN asked to act as another identity (RFC 4616 2)
};

struct SaslResult {
  bool authenticated = false;
  // The user the client named (PLAIN's authcid, LOGIN's user name, CRAM-MD5's user); empty when
  // the exchange ended before a response named one.
  std::string user;
  SaslFailure why = SaslFailure::none;
};

// What the server says next: a challenge while the exchange goes on, or the result once over.
struct SaslStep {
  std::string challenge;             // base64, to send when result is not set ("" is empty)
  std::optional<SaslResult> result;  // set once the exchange is over
  bool finished() const { return result.has_value(); }
};

class SaslExchange {
 public:
  // A user's password, or nullopt when there is no such user.
  using PasswordLookup = std::function<std::optional<std::string>(const std::string& user)>;

  // `lookup` is called during respond() and start() only, and must stay valid as long as the
  // exchange is used.
  explicit SaslExchange(PasswordLookup lookup, SaslOptions options = {});

  // Begins an exchange (ending any that was in progress). `initial_response` is the client's
  // initial response as sent (base64, or "=" for an empty one; RFC 4422 3.3), nullopt when it
  // sent none. `challenge` is CRAM-MD5's challenge (RFC 2195 2), which the caller makes since it
  // comes from the scenario's seed and clock; other mechanisms ignore it.
  SaslStep start(SaslMechanism mechanism, std::optional<std::string_view> initial_response,
                 std::string challenge = {});
  // The client's answer to the last challenge: one line, with or without its CRLF or LF. Only
  // while active(); otherwise the result is `malformed`.
  SaslStep respond(std::string_view line);
  // Ends the exchange without a result (the protocol gave up on it: a line too long, a reset).
  void cancel() { step_ = Step::idle; }

  bool active() const { return step_ != Step::idle; }
  // The mechanism of the exchange in progress, or of the last one.
  SaslMechanism mechanism() const { return mechanism_; }

 private:
  enum class Step { idle, plain, login_user, login_password, cram };
  std::optional<std::string> decode(std::string_view text) const;
  SaslStep proceed(const std::string& decoded);
  SaslStep ask(std::string_view challenge);
  SaslStep finish(bool authenticated, std::string user, SaslFailure why);
  SaslStep check(std::string user, std::string_view password);

  PasswordLookup lookup_;
  SaslOptions options_;
  Step step_ = Step::idle;
  SaslMechanism mechanism_ = SaslMechanism::plain;
  std::string login_user_;  // LOGIN: the user name, while the password is asked for
  std::string challenge_;   // CRAM-MD5: the challenge sent
};

}  // namespace protofarm
