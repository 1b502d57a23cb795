#include "fakes/ftp/ftp_protocol.hpp"

#include <algorithm>
#include <charconv>

#include "fakes/common/bytes.hpp"
#include "fakes/common/numeric_reply.hpp"

namespace protofarm::ftp {

namespace {

Reply say(int code, std::string_view text, Effect effect = Effect::none) {
  Reply r;
  r.bytes = reply(code, text);
  r.effect = effect;
  return r;
}

Reply say(int code, const std::vector<std::string>& lines) {
  Reply r;
  r.bytes = reply(code, lines);
  return r;
}

Json event_with(std::initializer_list<std::pair<const char*, Json>> fields) {
  Json e = Json::object();
  for (const auto& [k, v] : fields) e[k] = v;
  return e;
}

const char* kNotLoggedIn = "Please login with USER and PASS.";

}  // namespace

const std::vector<Protocol::VerbSpec>& Protocol::verbs() {
  // name, handler, before login, argument (0 none, 1 required, 2 optional), help
  static const std::vector<VerbSpec> v = {
      {"USER", &Protocol::on_user, true, 1, "USER <name>"},
      {"PASS", &Protocol::on_pass, true, 2, "PASS <password>"},
      {"ACCT", &Protocol::on_acct, true, 2, "ACCT <account>"},
      {"AUTH", &Protocol::on_auth, true, 1, "AUTH TLS"},
      {"PBSZ", &Protocol::on_pbsz, true, 1, "PBSZ 0"},
      {"PROT", &Protocol::on_prot, true, 1, "PROT C|P"},
      {"CCC", &Protocol::on_ccc, true, 0, "CCC"},
      {"QUIT", &Protocol::on_quit, true, 2, "QUIT"},
      {"CWD", &Protocol::on_cwd, false, 2, "CWD <path>"},
      {"XCWD", &Protocol::on_cwd, false, 2, "XCWD <path>"},
      {"CDUP", &Protocol::on_cdup, false, 2, "CDUP"},
      {"XCUP", &Protocol::on_cdup, false, 2, "XCUP"},
      {"PWD", &Protocol::on_pwd, false, 2, "PWD"},
      {"XPWD", &Protocol::on_pwd, false, 2, "XPWD"},
      {"MKD", &Protocol::on_mkd, false, 1, "MKD <path>"},
      {"XMKD", &Protocol::on_mkd, false, 1, "XMKD <path>"},
      {"RMD", &Protocol::on_rmd, false, 1, "RMD <path>"},
      {"XRMD", &Protocol::on_rmd, false, 1, "XRMD <path>"},
      {"DELE", &Protocol::on_dele, false, 1, "DELE <path>"},
      {"RNFR", &Protocol::on_rnfr, false, 1, "RNFR <path>"},
      {"RNTO", &Protocol::on_rnto, false, 1, "RNTO <path>"},
      {"SIZE", &Protocol::on_size, false, 1, "SIZE <path>"},
      {"MDTM", &Protocol::on_mdtm, false, 1, "MDTM <path>"},
      {"MLST", &Protocol::on_mlst, false, 2, "MLST [<path>]"},
      {"TYPE", &Protocol::on_type, false, 1, "TYPE A|I"},
      {"MODE", &Protocol::on_mode, false, 1, "MODE S"},
      {"STRU", &Protocol::on_stru, false, 1, "STRU F"},
      {"PASV", &Protocol::on_pasv, false, 2, "PASV"},
      {"EPSV", &Protocol::on_epsv, false, 2, "EPSV [1|2|ALL]"},
      {"PORT", &Protocol::on_port, false, 1, "PORT h1,h2,h3,h4,p1,p2"},
      {"EPRT", &Protocol::on_eprt, false, 1, "EPRT |af|addr|port|"},
      {"REST", &Protocol::on_rest, false, 1, "REST <offset>"},
      {"ALLO", &Protocol::on_allo, false, 2, "ALLO <size>"},
      {"RETR", &Protocol::on_retr, false, 1, "RETR <path>"},
      {"STOR", &Protocol::on_stor, false, 1, "STOR <path>"},
      {"APPE", &Protocol::on_appe, false, 1, "APPE <path>"},
      {"STOU", &Protocol::on_stou, false, 2, "STOU [<name>]"},
      {"LIST", &Protocol::on_list, false, 2, "LIST [<path>]"},
      {"NLST", &Protocol::on_nlst, false, 2, "NLST [<path>]"},
      {"MLSD", &Protocol::on_mlsd, false, 2, "MLSD [<path>]"},
      {"ABOR", &Protocol::on_abor, true, 0, "ABOR"},
      {"SYST", &Protocol::on_syst, true, 0, "SYST"},
      {"FEAT", &Protocol::on_feat, true, 0, "FEAT"},
      {"OPTS", &Protocol::on_opts, true, 1, "OPTS UTF8 ON"},
      {"HELP", &Protocol::on_help, true, 2, "HELP [<command>]"},
      {"STAT", &Protocol::on_stat, true, 2, "STAT [<path>]"},
      {"NOOP", &Protocol::on_noop, true, 0, "NOOP"},
  };
  return v;
}

std::vector<std::string> Protocol::verb_names() {
  std::vector<std::string> names;
  for (const auto& v : verbs()) names.emplace_back(v.name);
  return names;
}

Protocol::Protocol(const Config& config, FileTree& tree, std::string_view peer_host,
                   bool tls_active, TimePoint now)
    : config_(config),
      tree_(tree),
      peer_host_(unmap_v4(peer_host)),
      tls_active_(tls_active),
      now_(now) {}

std::string Protocol::greeting() const {
  std::string g = config_.greeting;
  // A greeting given as text only gets the code it needs (RFC 959 4.2: 220 service ready).
  if (reply_code_of(g) == 0) g = "220 " + g;
  return g + "\r\n";
}

void Protocol::tls_started() {
  tls_active_ = true;
  user_.reset();
}

Reply Protocol::handle(const Command& c) {
  if (c.verb != "RNTO") rename_from_.reset();
  const auto& all = verbs();
  const auto it =
      std::find_if(all.begin(), all.end(), [&](const VerbSpec& v) { return v.name == c.verb; });
  if (it == all.end()) return say(500, "Unknown command.");
  // RFC 959 4.2: 501 for a known command with a bad argument (no name here holds a NUL).
  if (c.has_nul) return say(501, "Syntax error: NUL byte in the argument.");
  if (!it->before_login && !logged_in_) return say(530, kNotLoggedIn);
  if (it->arg == 1 && c.arg.empty())
    return say(501, std::string(it->name) + " needs an argument: " + std::string(it->help));
  return (this->*(it->handler))(c);
}

// --- access control -------------------------------------------------------------------------

Reply Protocol::on_user(const Command& c) {
  // A new USER starts a new login (RFC 959 4.1.1), even after one succeeded.
  logged_in_ = false;
  account_ = nullptr;
  cwd_ = "/";
  user_ = c.arg;
  return say(331, "Please specify the password.");
}

Reply Protocol::login(const std::string& user) {
  logged_in_ = true;
  const auto it = config_.users.find(user);
  account_ = it == config_.users.end() ? nullptr : &it->second;
  cwd_ = account_ && tree_.find(account_->home) ? account_->home : "/";
  Reply r = say(230, "Login successful.");
  r.events.emplace_back("login", event_with({{"user", user}}));
  return r;
}

Reply Protocol::on_pass(const Command& c) {
  if (logged_in_) return say(230, "Already logged in.");
  if (!user_) return say(503, "Login with USER first.");
  std::string name = *user_;
  auto it = config_.users.find(name);
  // Anonymous logins: the name is not case-sensitive (RFC 1635).
  if (it == config_.users.end() && (iequals(name, "anonymous") || iequals(name, "ftp"))) {
    name = iequals(name, "ftp") && config_.users.count("ftp") ? "ftp" : "anonymous";
    it = config_.users.find(name);
  }
  if (it != config_.users.end() && (!it->second.password || *it->second.password == c.arg))
    return login(name);
  Reply r = say(530, "Login incorrect.");
  r.events.emplace_back("login_failed", event_with({{"user", *user_}}));
  user_.reset();
  return r;
}

Reply Protocol::on_acct(const Command&) {
  return say(202, "ACCT not needed: the login is complete without it.");
}

Reply Protocol::on_auth(const Command& c) {
  const std::string mech = to_upper(c.arg);
  if (config_.tls != TlsMode::starttls) return say(502, "AUTH is not offered by this server.");
  if (tls_active_) return say(503, "Already using TLS.");
  if (mech != "TLS" && mech != "TLS-C" && mech != "SSL")
    return say(504, "Unknown AUTH type; only TLS is offered.");
  return say(234, "Proceed with negotiation.", Effect::start_tls);
}

Reply Protocol::on_pbsz(const Command&) {
  if (!tls_active_) return say(503, "PBSZ not allowed on insecure control connection.");
  pbsz_ = true;
  // RFC 4217 9: a stream protocol buffers nothing; PBSZ=0 says so.
  return say(200, "PBSZ=0");
}

Reply Protocol::on_prot(const Command& c) {
  if (!tls_active_) return say(503, "PROT not allowed on insecure control connection.");
  if (!pbsz_) return say(503, "PBSZ must come before PROT (RFC 4217 9).");
  const std::string level = to_upper(c.arg);
  if (level == "P") {
    prot_private_ = true;
    return say(200, "PROT now Private.");
  }
  if (level == "C") {
    prot_private_ = false;
    return say(200, "PROT now Clear.");
  }
  if (level == "S" || level == "E") return say(536, "PROT level not supported.");
  return say(504, "PROT takes C or P.");
}

Reply Protocol::on_ccc(const Command&) {
  return say(534, "CCC refused: the control connection stays protected.");
}

Reply Protocol::on_quit(const Command&) { return say(221, "Goodbye.", Effect::close); }

// --- navigation and the tree ----------------------------------------------------------------

std::optional<std::string> Protocol::existing(std::string_view arg, int kind, Reply& error) const {
  auto path = resolve_path(cwd_, arg);
  const Node* n = path ? tree_.find(*path) : nullptr;
  if (!n || (kind == 1 && n->dir) || (kind == 2 && !n->dir)) {
    error = say(550, kind == 2 ? "Failed to change directory." : "No such file or directory.");
    return std::nullopt;
  }
  return path;
}

std::optional<std::string> Protocol::writable_target(std::string_view arg, Reply& error) const {
  auto path = resolve_path(cwd_, arg);
  if (!path || *path == "/") {
    error = say(553, "Could not create file.");
    return std::nullopt;
  }
  const Node* parent = tree_.find(parent_of(*path));
  if (!parent || !parent->dir) {
    error = say(553, "Could not create file.");
    return std::nullopt;
  }
  if (!user_writes() || !tree_.writable(parent_of(*path))) {
    error = say(550, "Permission denied.");
    return std::nullopt;
  }
  return path;
}

Reply Protocol::on_cwd(const Command& c) {
  Reply error;
  const auto path = existing(c.arg.empty() ? "/" : c.arg, 2, error);
  if (!path) return error;
  cwd_ = *path;
  return say(250, "Directory successfully changed.");
}

Reply Protocol::on_cdup(const Command&) {
  cwd_ = parent_of(cwd_);
  return say(250, "Directory successfully changed.");
}

Reply Protocol::on_pwd(const Command&) {
  return say(257, quote_path(cwd_) + " is the current directory");
}

Reply Protocol::on_mkd(const Command& c) {
  Reply error;
  const auto path = writable_target(c.arg, error);
  if (!path) return error;
  if (tree_.find(*path)) return say(550, "Create directory operation failed: it exists.");
  tree_.make_dirs(*path);
  return say(257, quote_path(*path) + " created");
}

Reply Protocol::on_rmd(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 2, error);
  if (!path) return say(550, "Remove directory operation failed.");
  if (*path == "/" || !writable_target(*path, error)) return say(550, "Permission denied.");
  if (!tree_.find(*path)->children.empty())
    return say(550, "Remove directory operation failed: it is not empty.");
  tree_.remove(*path);
  return say(250, "Remove directory operation successful.");
}

Reply Protocol::on_dele(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 1, error);
  if (!path) return say(550, "Delete operation failed.");
  if (!writable_target(*path, error)) return say(550, "Permission denied.");
  tree_.remove(*path);
  return say(250, "Delete operation successful.");
}

Reply Protocol::on_rnfr(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 0, error);
  if (!path) return say(550, "RNFR command failed.");
  if (!writable_target(*path, error)) return say(550, "Permission denied.");
  rename_from_ = *path;
  return say(350, "Ready for RNTO.");
}

Reply Protocol::on_rnto(const Command& c) {
  if (!rename_from_) return say(503, "RNFR required first.");
  const std::string from = *rename_from_;
  rename_from_.reset();
  Reply error;
  const auto to = writable_target(c.arg, error);
  if (!to) return error;
  if (!tree_.rename(from, *to)) return say(550, "Rename failed.");
  return say(250, "Rename successful.");
}

Reply Protocol::on_size(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 0, error);
  const Node* n = path ? tree_.find(*path) : nullptr;
  if (!n || n->dir) return say(550, "Could not get file size.");
  // The stored size in either TYPE, as vsftpd answers. (RFC 3659 4 would have TYPE A count the
  // CRs it adds; clients send TYPE I before SIZE, and ftplib's size() after a listing, still in
  // TYPE A, expects the file's size.)
  return say(213, std::to_string(n->content.length()));
}

Reply Protocol::on_mdtm(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 0, error);
  const Node* n = path ? tree_.find(*path) : nullptr;
  if (!n || n->dir) return say(550, "Could not get file modification time.");
  return say(213, ftp_time(n->mtime));
}

Reply Protocol::on_mlst(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 0, error);
  if (!path) return error;
  EntryInfo info = tree_.info(*path);
  info.name = *path;
  info.writable = info.writable && user_writes();
  // RFC 3659 7.2: the facts line starts with one space.
  return say(250, std::vector<std::string>{"Listing " + *path, " " + mlsx_facts(info), "End"});
}

// --- transfer parameters --------------------------------------------------------------------

Reply Protocol::on_type(const Command& c) {
  const std::string t = to_upper(c.arg);
  if (t == "A" || t == "A N") {
    ascii_ = true;
    return say(200, "Switching to ASCII mode.");
  }
  if (t == "I" || t == "L 8") {
    ascii_ = false;
    return say(200, "Switching to Binary mode.");
  }
  return say(504, "TYPE " + c.arg + " is not supported: use A or I.");
}

Reply Protocol::on_mode(const Command& c) {
  if (to_upper(c.arg) == "S") return say(200, "Mode set to S.");
  return say(504, "Bad MODE command: only S (stream) is supported.");
}

Reply Protocol::on_stru(const Command& c) {
  if (to_upper(c.arg) == "F") return say(200, "Structure set to F.");
  return say(504, "Bad STRU command: only F (file) is supported.");
}

Reply Protocol::on_pasv(const Command&) {
  if (epsv_all_) return say(500, "PASV not allowed after EPSV ALL.");
  Reply r;
  r.effect = Effect::passive;
  return r;
}

Reply Protocol::on_epsv(const Command& c) {
  const std::string arg = to_upper(c.arg);
  if (arg == "ALL") {
    epsv_all_ = true;
    return say(200, "EPSV ALL ok.");
  }
  const int family = address_family(peer_host_);
  if (!arg.empty() && arg != std::to_string(family))
    return say(522, "Network protocol not supported, use (" + std::to_string(family) + ")");
  Reply r;
  r.effect = Effect::passive;
  r.extended = true;
  return r;
}

Reply Protocol::on_port(const Command& c) {
  if (epsv_all_) return say(500, "PORT not allowed after EPSV ALL.");
  const auto hp = parse_port(c.arg);
  if (!hp) return say(501, "Illegal PORT command.");
  // The bounce defence (RFC 2577 3): data connections go back to the client, to no other host,
  // and never to a privileged port.
  if (!config_.allow_foreign_port && (unmap_v4(hp->host) != peer_host_ || hp->port < 1024))
    return say(500, "Illegal PORT command: only the client's own address is allowed.");
  data_ = DataMode::active;
  Reply r = say(200, "PORT command successful. Consider using PASV.", Effect::active);
  r.active = hp;
  return r;
}

Reply Protocol::on_eprt(const Command& c) {
  if (epsv_all_) return say(500, "EPRT not allowed after EPSV ALL.");
  bool unsupported = false;
  const auto hp = parse_eprt(c.arg, unsupported);
  if (unsupported) return say(522, "Network protocol not supported, use (1,2)");
  if (!hp) return say(501, "Illegal EPRT command.");
  if (!config_.allow_foreign_port && (unmap_v4(hp->host) != peer_host_ || hp->port < 1024))
    return say(500, "Illegal EPRT command: only the client's own address is allowed.");
  data_ = DataMode::active;
  Reply r = say(200, "EPRT command successful. Consider using EPSV.", Effect::active);
  r.active = hp;
  return r;
}

Reply Protocol::on_rest(const Command& c) {
  std::uint64_t v = 0;
  const auto [p, ec] = std::from_chars(c.arg.data(), c.arg.data() + c.arg.size(), v);
  if (ec != std::errc{} || p != c.arg.data() + c.arg.size())
    return say(501, "REST requires a value greater than or equal to 0.");
  rest_ = v;
  return say(350, "Restart position accepted (" + std::to_string(v) + ").");
}

Reply Protocol::on_allo(const Command&) { return say(202, "ALLO command ignored."); }

// --- transfers ------------------------------------------------------------------------------

Reply Protocol::start(Transfer t) {
  if (data_ == DataMode::none) return say(425, "Use PORT or PASV first.");
  data_ = DataMode::none;  // one transfer per PASV/PORT
  rest_ = 0;
  t.ascii = ascii_;
  Reply r;
  r.effect = Effect::transfer;
  r.transfer = std::move(t);
  return r;
}

Reply Protocol::on_retr(const Command& c) {
  Reply error;
  const auto path = existing(c.arg, 1, error);
  if (!path) return say(550, "Failed to open file.");
  const Node* n = tree_.find(*path);
  const std::uint64_t size = n->content.length();
  if (rest_ > size) {
    rest_ = 0;
    return say(554, "Restart position beyond the end of the file (RFC 3659 5.5).");
  }
  Transfer t;
  t.kind = Transfer::Kind::retr;
  t.path = *path;
  t.offset = rest_;
  t.content = n->content;
  t.preliminary = reply(150, std::string("Opening ") + (ascii_ ? "ASCII" : "BINARY") +
                                 " mode data connection for " + base_name(*path) + " (" +
                                 std::to_string(size) + " bytes).");
  return start(std::move(t));
}

Reply Protocol::on_stor(const Command& c) {
  Reply error;
  const auto path = writable_target(c.arg, error);
  if (!path) return error;
  if (const Node* n = tree_.find(*path); n && n->dir) return say(553, "Could not create file.");
  if (rest_ > config_.max_upload) {
    rest_ = 0;
    return say(552, "Restart position beyond the storage allocation.");
  }
  Transfer t;
  t.kind = Transfer::Kind::stor;
  t.path = *path;
  t.offset = rest_;
  t.preliminary = reply(150, "Ok to send data.");
  return start(std::move(t));
}

Reply Protocol::on_appe(const Command& c) {
  Reply r = on_stor(c);
  if (r.transfer) {
    r.transfer->kind = Transfer::Kind::appe;
    r.transfer->offset = 0;
  }
  return r;
}

Reply Protocol::on_stou(const Command& c) {
  const std::string wanted = c.arg.empty() ? "ftp.upload" : c.arg;
  const auto base = resolve_path(cwd_, wanted);
  if (!base) return say(553, "Could not create file.");
  std::string path = *base;
  while (tree_.find(path)) path = *base + "." + std::to_string(++stou_counter_);
  Reply error;
  if (!writable_target(path, error)) return error;
  Transfer t;
  t.kind = Transfer::Kind::stou;
  t.path = path;
  // RFC 1123 4.1.2.9: the 150 reply names the file as "FILE: pppp".
  t.preliminary = reply(150, "FILE: " + base_name(path));
  return start(std::move(t));
}

std::string_view Protocol::list_path(std::string_view arg) {
  // "-la", "-a /pub": options first, as ls takes them (RFC 959 leaves LIST's argument to the
  // server; clients send ls options and expect them to be understood or ignored).
  while (arg.starts_with('-')) {
    const std::size_t space = arg.find(' ');
    arg = space == std::string_view::npos ? std::string_view{} : arg.substr(space + 1);
    while (arg.starts_with(' ')) arg.remove_prefix(1);
  }
  return arg;
}

std::string Protocol::listing(std::string_view path, Transfer::Kind kind,
                              std::string_view as_given) const {
  std::string out;
  const Node* n = tree_.find(path);
  if (kind == Transfer::Kind::mlsd) {
    EntryInfo self = tree_.info(path);
    self.name = ".";
    self.writable = self.writable && user_writes();
    out += mlsx_facts(self, "cdir") + "\r\n";
  }
  for (EntryInfo e : tree_.list(path)) {
    e.writable = e.writable && user_writes();  // RFC 3659 7.5.5: what this user may do
    switch (kind) {
      case Transfer::Kind::list:
        out += list_line(e, config_.list_format, now_);
        break;
      case Transfer::Kind::nlst:
        // NLST of a file names it as the client did; of a folder, the names in it.
        out += (n && !n->dir ? std::string(as_given) : e.name) + "\r\n";
        break;
      default:
        out += mlsx_facts(e) + "\r\n";
        break;
    }
  }
  return out;
}

Reply Protocol::on_list(const Command& c) {
  Reply error;
  const auto path = existing(list_path(c.arg), 0, error);
  if (!path) return error;
  Transfer t;
  t.kind = Transfer::Kind::list;
  t.path = *path;
  t.listing = listing(*path, t.kind);
  t.preliminary = reply(150, "Here comes the directory listing.");
  return start(std::move(t));
}

Reply Protocol::on_nlst(const Command& c) {
  Reply error;
  const auto path = existing(list_path(c.arg), 0, error);
  if (!path) return error;
  Transfer t;
  t.kind = Transfer::Kind::nlst;
  t.path = *path;
  t.listing = listing(*path, t.kind, list_path(c.arg));
  t.preliminary = reply(150, "Here comes the directory listing.");
  return start(std::move(t));
}

Reply Protocol::on_mlsd(const Command& c) {
  const auto path = resolve_path(cwd_, c.arg);
  const Node* n = path ? tree_.find(*path) : nullptr;
  if (!n) return say(550, "No such file or directory.");
  // RFC 3659 7.2.1: MLSD names a folder.
  if (!n->dir) return say(501, "MLSD needs a folder; use MLST for a file.");
  Transfer t;
  t.kind = Transfer::Kind::mlsd;
  t.path = *path;
  t.listing = listing(*path, t.kind);
  t.preliminary = reply(150, "Here comes the directory listing.");
  return start(std::move(t));
}

Reply Protocol::on_abor(const Command&) {
  // A transfer in progress is aborted by the session before this is reached.
  data_ = DataMode::none;
  return say(225, "No transfer to ABOR.");
}

Reply Protocol::finish_transfer(const Transfer& t, const TransferOutcome& o) {
  using End = TransferOutcome::End;
  switch (o.end) {
    case End::complete:
      if (o.upload_too_big) return say(552, "Exceeded storage allocation.");
      return say(226, t.listing_kind() ? "Directory send OK." : "Transfer complete.");
    case End::cut:
    case End::reset:
    case End::failed:
      return say(
          426, t.upload() ? "Failure reading network stream." : "Failure writing network stream.");
    case End::aborted:
      return say(426, "Transfer aborted. Data connection closed.");
    case End::tls_refused:
      // vsftpd's words with require_ssl_reuse=YES.
      return say(522, "SSL connection failed; session reuse required");
    case End::tls_failed:
      return say(522, "SSL connection failed: the data connection's TLS handshake failed.");
  }
  return say(451, "Transfer failed.");
}

void Protocol::store_upload(const Transfer& t, const std::string& bytes) {
  std::string content;
  const Node* old = tree_.find(t.path);
  if (old && !old->dir && (t.kind == Transfer::Kind::appe || t.offset > 0)) {
    content = read_all_content(old->content, static_cast<std::size_t>(config_.max_upload))
                  .value_or(std::string{});
    // STOR after REST writes from the offset: what was beyond it goes, a gap reads as zeros.
    if (t.kind != Transfer::Kind::appe) content.resize(static_cast<std::size_t>(t.offset));
  }
  content += bytes;
  Content c;
  c.bytes = std::make_shared<const std::string>(std::move(content));
  Node* n = tree_.put_file(t.path, std::move(c), now_);
  if (n) n->mode = 0644;
}

// --- information ----------------------------------------------------------------------------

Reply Protocol::on_syst(const Command&) { return say(215, "UNIX Type: L8"); }

Reply Protocol::on_feat(const Command&) {
  std::vector<std::string> lines = {"Features:"};
  if (config_.tls == TlsMode::starttls) lines.emplace_back(" AUTH TLS");
  lines.emplace_back(" EPRT");
  lines.emplace_back(" EPSV");
  lines.emplace_back(" MDTM");
  lines.emplace_back(" MLST type*;size*;modify*;perm*;UNIX.mode*;");
  lines.emplace_back(" PASV");
  if (config_.tls != TlsMode::none) {
    lines.emplace_back(" PBSZ");
    lines.emplace_back(" PROT");
  }
  lines.emplace_back(" REST STREAM");
  lines.emplace_back(" SIZE");
  lines.emplace_back(" TVFS");
  lines.emplace_back(" UTF8");
  lines.emplace_back("End");
  return say(211, lines);
}

Reply Protocol::on_opts(const Command& c) {
  const std::string arg = to_upper(c.arg);
  if (arg == "UTF8 ON" || arg == "UTF8" || arg == "UTF-8 ON")
    return say(200, "Always in UTF8 mode.");
  if (arg == "UTF8 OFF") return say(504, "UTF8 cannot be turned off.");
  if (arg.starts_with("MLST")) return say(200, "MLST OPTS type;size;modify;perm;UNIX.mode;");
  return say(501, "Option not understood.");
}

Reply Protocol::on_help(const Command& c) {
  if (!c.arg.empty()) {
    const std::string verb = to_upper(c.arg);
    for (const auto& v : verbs())
      if (v.name == verb) return say(214, "Syntax: " + std::string(v.help));
    return say(502, "Unknown command " + c.arg + ".");
  }
  std::vector<std::string> lines = {"The following commands are recognized."};
  std::string row;
  for (const auto& v : verbs()) {
    row += " " + std::string(v.name);
    if (row.size() > 60) {
      lines.push_back(row);
      row.clear();
    }
  }
  if (!row.empty()) lines.push_back(row);
  lines.emplace_back("Help OK.");
  return say(214, lines);
}

Reply Protocol::on_stat(const Command& c) {
  if (c.arg.empty()) {
    std::vector<std::string> lines = {"FTP server status:", "     Connected to " + peer_host_};
    lines.push_back(logged_in_ ? "     Logged in as " + user_.value_or("") : "     Not logged in");
    lines.push_back(std::string("     TYPE: ") + (ascii_ ? "ASCII" : "BINARY"));
    lines.push_back(std::string("     Control connection is ") +
                    (tls_active_ ? "TLS" : "plain text"));
    lines.push_back(std::string("     Data connections are ") +
                    (prot_private_ ? "TLS (PROT P)" : "plain text (PROT C)"));
    lines.emplace_back("End of status");
    return say(211, lines);
  }
  if (!logged_in_) return say(530, kNotLoggedIn);
  Reply error;
  const auto path = existing(list_path(c.arg), 0, error);
  if (!path) return error;
  std::vector<std::string> lines = {"Status follows:"};
  for (const EntryInfo& e : tree_.list(*path)) {
    std::string line = list_line(e, config_.list_format, now_);
    line.resize(line.size() - 2);
    lines.push_back(" " + line);
  }
  lines.emplace_back("End of status");
  return say(213, lines);
}

Reply Protocol::on_noop(const Command&) { return say(200, "NOOP ok."); }

Reply Protocol::follow_reply(const Command& c, int code) {
  Reply r;
  if (code == 421 || code == 221) {
    r.effect = Effect::close;
    return r;
  }
  if (c.verb == "CONNECT" && code >= 400) {
    r.effect = Effect::close;  // a greeting that refuses service ends the session
    return r;
  }
  const bool ok = code >= 200 && code < 400;
  if (!ok) {
    if (c.verb == "PASS") user_.reset();
    return r;
  }
  if (c.verb == "USER") {
    user_ = c.arg;
    logged_in_ = false;
    account_ = nullptr;
    cwd_ = "/";
    if (code == 230) r = login(c.arg);
  } else if (c.verb == "PASS" && code == 230) {
    r = login(user_.value_or("anonymous"));
  } else if (c.verb == "CWD" || c.verb == "XCWD") {
    if (const auto p = resolve_path(cwd_, c.arg); p && tree_.find(*p) && tree_.find(*p)->dir)
      cwd_ = *p;
  } else if (c.verb == "CDUP" || c.verb == "XCUP") {
    cwd_ = parent_of(cwd_);
  } else if (c.verb == "TYPE") {
    const std::string t = to_upper(c.arg);
    ascii_ = t.starts_with("A");
  } else if (c.verb == "REST") {
    std::uint64_t v = 0;
    std::from_chars(c.arg.data(), c.arg.data() + c.arg.size(), v);
    rest_ = v;
  } else if (c.verb == "RNFR") {
    if (const auto p = resolve_path(cwd_, c.arg)) rename_from_ = *p;
  } else if (c.verb == "AUTH" && code == 234) {
    r.effect = Effect::start_tls;
  } else if (c.verb == "PASV" || c.verb == "EPSV" || c.verb == "PORT" || c.verb == "EPRT") {
    // A scripted 227/229 names a port nobody listens on: no data connection follows.
    data_ = DataMode::none;
  }
  return r;
}

}  // namespace protofarm::ftp
