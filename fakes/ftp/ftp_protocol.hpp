// The FTP protocol of one control connection, as a state machine without I/O.
//
// The session (ftp_fake.cpp) reads a command line, parses it (ftp_codec.hpp), lets the rules
// answer, and otherwise calls handle(). Everything RFC 959, 2228, 2389, 2428, 3659 and 4217 say
// about which command is valid when and what it answers lives here, one handler per verb, so a
// conversation is unit-tested as strings (tests/unit/ftp_protocol_test.cpp). What needs I/O comes
// back as the Reply's effect: open a passive port, remember an active address, upgrade to TLS,
// run a transfer, close. The session does it, and tells the protocol how it went
// (passive_opened(), data_failed(), finish_transfer()).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "fakes/common/recorder.hpp"
#include "fakes/ftp/file_tree.hpp"
#include "fakes/ftp/ftp_codec.hpp"
#include "fakes/ftp/ftp_config.hpp"

namespace protofarm::ftp {

enum class Effect {
  none,
  close,      // after the reply (QUIT, 421)
  start_tls,  // after 234 to AUTH TLS
  passive,    // PASV or EPSV: open a passive port, then the session sends the 227/229
  active,     // PORT or EPRT was accepted: connect to `active` for the next transfer
  transfer,   // open the data connection and run `transfer`
};

struct Transfer {
  enum class Kind { retr, stor, appe, stou, list, nlst, mlsd };
  Kind kind = Kind::retr;
  std::string path;          // the file (retr, stor, ...) or the listed folder
  std::uint64_t offset = 0;  // REST
  bool ascii = false;        // TYPE A
  Content content;           // retr: what is sent from `offset`
  std::string listing;       // list, nlst, mlsd: the text sent (already CRLF)
  std::string preliminary;   // the 150 line (with CRLF)
  bool upload() const { return kind == Kind::stor || kind == Kind::appe || kind == Kind::stou; }
  bool listing_kind() const {
    return kind == Kind::list || kind == Kind::nlst || kind == Kind::mlsd;
  }
};

struct Reply {
  std::string bytes;  // what is sent now ("" for passive: the session renders 227/229)
  Effect effect = Effect::none;
  std::optional<Transfer> transfer;
  std::optional<HostPort> active;
  bool extended = false;  // passive: EPSV (229) rather than PASV (227)
  // Named transcript events (login, login_failed, ...), recorded before the reply is sent.
  std::vector<std::pair<std::string, Json>> events;
};

// How a transfer ended, as the session saw it.
struct TransferOutcome {
  // tls_refused: the data connection did not resume the control connection's TLS session
  // (require_session_reuse); tls_failed: its handshake failed.
  enum class End { complete, cut, reset, aborted, failed, tls_refused, tls_failed };
  End end = End::complete;
  std::uint64_t bytes = 0;  // sent or received on the data connection
  std::string upload;       // what an upload received (decoded for TYPE A)
  bool upload_too_big = false;
};

class Protocol {
 public:
  // `peer_host` is the client's address (PORT/EPRT may name only it); `tls_active` is true for
  // implicit TLS.
  Protocol(const Config& config, FileTree& tree, std::string_view peer_host, bool tls_active,
           TimePoint now);

  std::string greeting() const;
  // One command line. Never fails: bad input gets a 5xx reply.
  Reply handle(const Command& c);

  // The TLS handshake after AUTH TLS succeeded: the client starts over (RFC 4217 5: a USER given
  // before is forgotten). Also for implicit TLS.
  void tls_started();
  // The session opened a passive port after PASV/EPSV; the next transfer accepts on it.
  void passive_opened() { data_ = DataMode::passive; }
  // No data connection can be made now (a passive port could not be opened, a transfer ended).
  void data_failed() { data_ = DataMode::none; }
  // A transfer ended: the final reply it gets (226, or 426/522/552 ...). A rule may send
  // another; the session decides from the reply actually sent whether an upload is kept.
  Reply finish_transfer(const Transfer& t, const TransferOutcome& outcome);
  // Stores an upload whose final reply was a success, at t.path: STOR replaces the file (from
  // t.offset after REST), APPE appends.
  void store_upload(const Transfer& t, const std::string& bytes);
  // A rule answered instead of handle(), with a reply whose first line has `code`: keeps the
  // state in step (scenarios/README.md, "What a scripted reply does"). 2xx/3xx to USER, PASS,
  // CWD, CDUP, RNFR, REST, TYPE, AUTH do what they do; 421 and 221 close.
  Reply follow_reply(const Command& c, int code);

  bool logged_in() const { return logged_in_; }
  bool protect_data() const { return prot_private_; }
  bool tls_active() const { return tls_active_; }
  const std::string& cwd() const { return cwd_; }
  bool epsv_all() const { return epsv_all_; }
  // The commands this protocol knows (for the rules' `on`).
  static std::vector<std::string> verb_names();

 private:
  enum class DataMode { none, passive, active };
  using Handler = Reply (Protocol::*)(const Command&);
  struct VerbSpec {
    std::string_view name;
    Handler handler;
    bool before_login;  // allowed before login
    int arg;            // 0: none expected (one given is ignored), 1: required, 2: optional
    std::string_view help;
  };
  static const std::vector<VerbSpec>& verbs();

  // --- access control: RFC 959 4.1.1, RFC 4217 --------------------------------------------
  Reply on_user(const Command& c);
  Reply on_pass(const Command& c);
  Reply on_acct(const Command& c);
  Reply on_auth(const Command& c);
  Reply on_pbsz(const Command& c);
  Reply on_prot(const Command& c);
  Reply on_ccc(const Command& c);
  Reply on_quit(const Command& c);
  // --- navigation and the tree -------------------------------------------------------------
  Reply on_cwd(const Command& c);
  Reply on_cdup(const Command& c);
  Reply on_pwd(const Command& c);
  Reply on_mkd(const Command& c);
  Reply on_rmd(const Command& c);
  Reply on_dele(const Command& c);
  Reply on_rnfr(const Command& c);
  Reply on_rnto(const Command& c);
  Reply on_size(const Command& c);
  Reply on_mdtm(const Command& c);
  Reply on_mlst(const Command& c);
  // --- transfer parameters: RFC 959 4.1.2, RFC 2428, RFC 3659 5 ------------------------------
  Reply on_type(const Command& c);
  Reply on_mode(const Command& c);
  Reply on_stru(const Command& c);
  Reply on_pasv(const Command& c);
  Reply on_epsv(const Command& c);
  Reply on_port(const Command& c);
  Reply on_eprt(const Command& c);
  Reply on_rest(const Command& c);
  Reply on_allo(const Command& c);
  // --- transfers ---------------------------------------------------------------------------
  Reply on_retr(const Command& c);
  Reply on_stor(const Command& c);
  Reply on_appe(const Command& c);
  Reply on_stou(const Command& c);
  Reply on_list(const Command& c);
  Reply on_nlst(const Command& c);
  Reply on_mlsd(const Command& c);
  Reply on_abor(const Command& c);
  // --- information -------------------------------------------------------------------------
  Reply on_syst(const Command& c);
  Reply on_feat(const Command& c);
  Reply on_opts(const Command& c);
  Reply on_help(const Command& c);
  Reply on_stat(const Command& c);
  Reply on_noop(const Command& c);

  // The path an argument names, when the tree has it (kind: 0 any, 1 file, 2 folder); else a
  // 550 in `error`.
  std::optional<std::string> existing(std::string_view arg, int kind, Reply& error) const;
  // The folder an upload or MKD would change, when it may be changed; else 550/553 in `error`.
  std::optional<std::string> writable_target(std::string_view arg, Reply& error) const;
  // A transfer of `kind` when a data connection is set up; 425 otherwise.
  Reply start(Transfer t);
  // LIST and NLST arguments: options such as "-la" are dropped (clients send them; ls would
  // take them), what is left is the path.
  static std::string_view list_path(std::string_view arg);
  // The text a listing command sends; `as_given` is the path as the client wrote it (NLST of a
  // file names it that way).
  std::string listing(std::string_view path, Transfer::Kind kind,
                      std::string_view as_given = {}) const;
  Reply login(const std::string& user);
  // Whether the logged-in user has write (the folder must allow it too).
  bool user_writes() const { return account_ && account_->write; }

  const Config& config_;
  FileTree& tree_;
  std::string peer_host_;
  bool tls_active_;
  TimePoint now_;

  bool logged_in_ = false;
  std::optional<std::string> user_;  // after USER
  const User* account_ = nullptr;
  std::string cwd_ = "/";
  bool ascii_ = false;
  std::uint64_t rest_ = 0;
  std::optional<std::string> rename_from_;
  bool pbsz_ = false;
  bool prot_private_ = false;
  bool epsv_all_ = false;
  DataMode data_ = DataMode::none;
  std::uint64_t stou_counter_ = 0;
};

}  // namespace protofarm::ftp
