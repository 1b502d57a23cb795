// The SMTP codec: bytes to commands and replies to bytes, with no sockets and no state.
//
// Everything here is a pure function or a small value type, unit-tested byte by byte
// (tests/unit/smtp_codec_test.cpp): command-line parsing (RFC 5321 4.1), MAIL/RCPT paths and
// their ESMTP parameters (RFC 5321 4.1.2, 6531 3.3), reply rendering with enhanced status codes
// (RFC 5321 4.2, 2034), the DATA decoder that finds the end of the message and undoes
// dot-stuffing (RFC 5321 4.5.2), the BDAT arguments (RFC 3030), and the SASL decoding behind
// AUTH PLAIN, LOGIN and CRAM-MD5 (RFC 4954, 4616, 2195).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// "250-first\r\n250 last\r\n" (RFC 5321 4.2.1), each line's text prefixed with the enhanced
// status code when `enhanced` is true and the reply has one.
std::string render(const Reply& reply, bool enhanced);

// The reply code a scripted reply starts with ("451 4.7.1 ..." -> 451), or 0 when the text does
// not start with three digits.
int reply_code_of(std::string_view text);

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

// Which line ends a DATA body. strict: only CRLF "." CRLF (RFC 5321 4.1.1.4). lenient: also
// the bare-LF forms LF "." LF, CRLF "." LF and LF "." CRLF, as servers open to SMTP smuggling
// accept them.
enum class EndOfData { strict, lenient };

// Reads a DATA body from the bytes after the 354 reply, in pieces of any size: finds the
// end-of-data line, removes the dot-stuffing (RFC 5321 4.5.2: a leading "." of a line is
// dropped), keeps at most `keep_limit` octets of the message, and counts what a strict server
// objects to: lines longer than 1000 octets, lines ended by a bare LF.
class DataDecoder {
 public:
  DataDecoder(EndOfData mode, std::uint64_t keep_limit);

  // Feeds the next bytes. Returns how many of them belong to the body (end-of-data line
  // included): all of them, unless the end-of-data line ends inside this piece.
  std::size_t feed(std::string_view bytes);
  bool done() const { return done_; }

  const std::string& content() const { return content_; }  // unstuffed, at most keep_limit
  std::uint64_t size() const { return size_; }             // unstuffed octets, all of them
  bool truncated() const { return size_ > content_.size(); }
  std::uint64_t long_lines() const { return long_lines_; }
  std::uint64_t bare_lf_lines() const { return bare_lf_lines_; }
  // Bytes of a line held back until it is clear whether it ends the body ("." "\r").
  std::string_view pending() const { return head_; }

 private:
  enum class LineEnd { start, crlf, lf };
  bool may_end(std::string_view line) const;
  void emit(std::string_view bytes);
  void end_line(char before_lf);

  EndOfData mode_;
  std::uint64_t keep_limit_;
  std::string content_;
  std::uint64_t size_ = 0;
  std::uint64_t long_lines_ = 0;
  std::uint64_t bare_lf_lines_ = 0;
  LineEnd previous_ = LineEnd::start;
  bool at_line_start_ = true;
  std::string head_;               // the start of the current line, while it may end DATA
  std::uint64_t line_length_ = 0;  // octets of the current line so far, line end included
  char last_in_line_ = '\0';       // the last byte of the current line so far
  bool done_ = false;
};

// --- AUTH (RFC 4954)
// ------------------------------------------------------------------------------

// Strict base64 as RFC 4954 4 requires of SASL responses: the standard alphabet, padded to a
// multiple of four, nothing else. "=" alone is the empty string (an empty initial response).
std::optional<std::string> decode_sasl_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

// AUTH PLAIN's message (RFC 4616 2): authzid NUL authcid NUL passwd.
struct PlainCredentials {
  std::string authzid, authcid, password;
};
std::optional<PlainCredentials> parse_plain(std::string_view decoded);

// CRAM-MD5 (RFC 2195): the client answers "user SP hex(HMAC-MD5(password, challenge))".
std::string cram_md5_digest(std::string_view password, std::string_view challenge);
struct CramResponse {
  std::string user, digest;  // digest in lower-case hex
};
std::optional<CramResponse> parse_cram_response(std::string_view decoded);

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
