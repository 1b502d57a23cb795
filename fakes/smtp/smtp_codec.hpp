// The SMTP codec: bytes to commands and replies to bytes, with no sockets and no state.
//
// Everything here is a pure function or a small value type, unit-tested byte by byte
// (tests/unit/smtp_codec_test.cpp): command-line parsing (RFC 5321 4.1), MAIL/RCPT paths and
// their ESMTP parameters (RFC 5321 4.1.2, 6531 3.3), reply rendering with enhanced status codes
// (RFC 5321 4.2, 2034), the DATA decoder that finds the end of the message and undoes
// dot-stuffing (RFC 5321 4.5.2), and the BDAT arguments (RFC 3030). What SMTP shares with other
// line protocols lives in fakes/common: the numeric reply format (numeric_reply.hpp), the
// dot-terminated block (multiline.hpp) and the SASL exchange behind AUTH (sasl.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"

namespace protofarm::smtp {

// RFC 5321 4.5.3.1.4: "The maximum total length of a command line including the command word
// and the <CRLF> is 512 octets."
inline constexpr std::size_t kMaxCommandLine = 512;
// RFC 4954 4: AUTH commands and SASL responses may be up to 12288 octets.
inline constexpr std::size_t kMaxAuthLine = 12288;
// RFC 5321 4.5.3.1.6: "The maximum total length of a text line including the <CRLF> is 1000
// octets."
inline constexpr std::size_t kMaxTextLine = 1000;

// The reply codes the fake sends (RFC 5321 4.2.2 and 4.2.3, RFC 4954 6, RFC 3207 4).
enum class Code : int {
  kHelp = 214,
  kServiceReady = 220,
  kClosing = 221,
  kAuthSucceeded = 235,
  kOk = 250,
  kCannotVerify = 252,
  kAuthContinue = 334,
  kStartMailInput = 354,
  kServiceNotAvailable = 421,
  kInsufficientStorage = 452,
  kTlsNotAvailable = 454,
  kSyntaxError = 500,
  kSyntaxErrorInParameters = 501,
  kNotImplemented = 502,
  kBadSequence = 503,
  kParameterNotImplemented = 504,
  kAccessDenied = 530,  // authentication or TLS required
  kAuthFailed = 535,
  kEncryptionRequired = 538,
  kExceededStorage = 552,
  kMailboxNameNotAllowed = 553,
  kTransactionFailed = 554,
  kParametersNotRecognized = 555,
};

// One reply. `status` is the enhanced status code (RFC 3463, "5.5.1") or empty; it is shown
// only when the server advertises ENHANCEDSTATUSCODES (RFC 2034 3).
struct Reply {
  Code code = Code::kOk;
  std::string status;
  std::vector<std::string> lines;  // at least one; each rendered as one reply line

  int number() const { return static_cast<int>(code); }
  bool positive() const { return number() < 400; }
};

Reply make_reply(Code code, std::string status, std::string text);

// "250-first\r\n250 last\r\n" (RFC 5321 4.2.1, rendered by render_numeric_reply()), each line's
// text prefixed with the enhanced status code when `enhanced` is true and the reply has one.
// The code a scripted reply starts with is reply_code_of() (fakes/common/numeric_reply.hpp).
std::string render(const Reply& reply, bool enhanced);

// --- commands ---------------------------------------------------------------------------------

// One command line as the client sent it. Odd input is flagged, never refused here: the
// protocol decides which reply it deserves.
struct Command {
  std::string verb;        // the keyword, upper case ("MAIL"); "" for an empty line
  std::string args;        // the rest of the line after the separating space, without the line end
                           // and without trailing blanks
  bool has_nul = false;    // a NUL byte anywhere in the line
  bool eight_bit = false;  // a byte >= 0x80 anywhere in the line
  bool bare_lf = false;    // ended in LF without CR
};

// Parses one line as read (terminator included, or none at end of input).
Command parse_command(std::string_view line);

// One ESMTP parameter of MAIL or RCPT (RFC 5321 4.1.2): KEYWORD[=value].
struct Param {
  std::string keyword;  // upper case
  std::optional<std::string> value;
};

// The arguments of MAIL FROM: and RCPT TO:.
struct PathArgs {
  enum class Error {
    none,
    syntax,       // not "FROM:<...>" / "TO:<...>" at all
    bad_address,  // the path is there but its mailbox is not a valid address
    bad_param,    // a parameter is not keyword[=value]
  };
  Error error = Error::none;
  std::string address;  // without angle brackets and source route; "" for the null path <>
  std::vector<Param> params;
  bool ok() const { return error == Error::none; }
};

// Parses "FROM:<a@b.c> SIZE=10" (keyword "FROM") or "TO:<a@b.c>" (keyword "TO"). The keyword
// is case-insensitive; spaces after the colon are allowed, as most servers do. `utf8` admits
// UTF-8 in the address (RFC 6531 3.3, when the transaction uses SMTPUTF8). `allow_null` admits
// "<>" (MAIL only); RCPT also admits "<Postmaster>" without a domain (RFC 5321 4.1.1.3).
PathArgs parse_path(std::string_view args, std::string_view keyword, bool allow_null, bool utf8);

// Whether text is a valid mailbox (RFC 5321 4.1.2 Mailbox; with `utf8`, RFC 6531 3.3).
bool is_valid_mailbox(std::string_view mailbox, bool utf8);

// BDAT arguments (RFC 3030 2): "chunk-size [LAST]".
struct BdatArgs {
  std::uint64_t size = 0;
  bool last = false;
};
std::optional<BdatArgs> parse_bdat(std::string_view args);

// SIZE=value (RFC 1870 6): digits only, without overflow.
std::optional<std::uint64_t> parse_decimal(std::string_view digits);

// --- DATA ---------------------------------------------------------------------------------------

// Which line ends a DATA body (the scenario's `end_of_data`). strict: only CRLF "." CRLF (RFC
// 5321 4.1.1.4). lenient: also the bare-LF forms LF "." LF, CRLF "." LF and LF "." CRLF, as
// servers open to SMTP smuggling accept them.
enum class EndOfData { strict, lenient };

// Reads a DATA body from the bytes after the 354 reply: a dot-terminated block
// (fakes/common/multiline.hpp) that ends as `mode` says, with the message's lines over 1000
// octets counted (RFC 5321 4.5.3.1.6).
class DataDecoder : public MultilineDecoder {
 public:
  DataDecoder(EndOfData mode, std::uint64_t keep_limit)
      : MultilineDecoder(mode == EndOfData::lenient ? BlockEnd::any_line_end : BlockEnd::crlf,
                         keep_limit, kMaxTextLine) {}
};

// --- determinism ---------------------------------------------------------------------------------

// A queue id like Postfix's ("4F3A1B2C3D5E"): 12 upper-case hex digits that depend only on the
// scenario's seed, the server, the session and the message's number in it.
std::string queue_id(std::uint64_t seed, std::string_view server, std::uint64_t session,
                     std::uint64_t message);
// A CRAM-MD5 challenge (RFC 2195 2): "<digits.unix-time@hostname>", from the seed and clock.
std::string cram_challenge(std::uint64_t seed, std::string_view server, std::uint64_t session,
                           std::chrono::system_clock::time_point now, std::string_view hostname);

// Whether bytes are valid UTF-8 (for SMTPUTF8 addresses).
bool is_utf8(std::string_view bytes);

}  // namespace protofarm::smtp
