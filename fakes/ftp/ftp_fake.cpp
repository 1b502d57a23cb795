#include "fakes/ftp/ftp_fake.hpp"

#include <boost/asio/detached.hpp>
#include <chrono>

#include "fakes/common/bytes.hpp"
#include "fakes/common/channels.hpp"
#include "fakes/common/digest.hpp"
#include "fakes/common/numeric_reply.hpp"
#include "fakes/common/session.hpp"
#include "fakes/ftp/file_tree.hpp"
#include "fakes/ftp/ftp_codec.hpp"
#include "fakes/ftp/ftp_config.hpp"
#include "fakes/ftp/ftp_protocol.hpp"

namespace protofarm::ftp {

namespace {

// An over-long line is read and discarded up to this many bytes; a client that sends more
// without a line feed is not speaking FTP, and the session ends.
constexpr std::size_t kSkipLimit = std::size_t{1024} * 1024;
// Data is moved in pieces of this size (a file is never held whole to be sent).
constexpr std::size_t kChunk = std::size_t{256} * 1024;
// data_close names what crossed the data connection by its SHA-256 up to this many bytes; a
// longer transfer (a generated 1 GiB file) is not hashed, so it runs at the network's speed.
constexpr std::uint64_t kDigestLimit = std::uint64_t{64} * 1024 * 1024;

// The IP address of "127.0.0.1:21" or "[::1]:21"; "" for anything else (a Unix socket, an
// in-memory transport).
std::string host_of(const std::string& endpoint) {
  std::string host;
  if (endpoint.starts_with('[')) {
    const std::size_t close = endpoint.find(']');
    if (close != std::string::npos) host = endpoint.substr(1, close - 1);
  } else if (const std::size_t colon = endpoint.rfind(':'); colon != std::string::npos) {
    host = endpoint.substr(0, colon);
  }
  error_code ec;
  asio::ip::make_address(host, ec);
  return ec ? std::string{} : host;
}

// Wakes the control loop when a line was read or a transfer ended. The loop checks its
// conditions before every wait, and nothing runs between that check and the wait, so no
// notification is lost.
class Wakeup {
 public:
  explicit Wakeup(const asio::any_io_executor& ex)
      : timer_(ex, std::chrono::steady_clock::time_point::max()) {}
  void notify() { timer_.cancel(); }
  Task<void> wait() {
    co_await timer_.async_wait(use_tuple);
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
  }

 private:
  asio::steady_timer timer_;
};

class FtpFake final : public StreamFake {
 public:
  FtpFake(Server& server, TimePoint clock) : server_(server), tree_(clock) {}
  FileTree& tree() { return tree_; }
  void configure(Config config) { config_ = std::move(config); }
  const Config& config() const { return config_; }
  Server& server() { return server_; }
  Task<void> serve(Session& s) override;
  void reset() override { tree_.reset(); }
  void describe(Json& entry) const override {
    if (!config_.passive_ports.any())
      entry["passive_ports"] = std::to_string(config_.passive_ports.first) + "-" +
                               std::to_string(config_.passive_ports.last);
  }

 private:
  Server& server_;
  Config config_;
  FileTree tree_;
};

// One control connection: the command loop, and at most one transfer beside it.
class FtpSession {
 public:
  FtpSession(FtpFake& fake, Session& s)
      : fake_(fake),
        s_(s),
        config_(fake.config()),
        protocol_(
            fake.config(), fake.tree(), host_of(s.conn().peer()), s.conn().tls_active(),
            s.server().config().scenario ? s.server().config().scenario->clock.now() : TimePoint{}),
        wake_(s.conn().executor()),
        abort_timer_(s.conn().executor()) {}

  Task<void> run();

 private:
  struct RunningTransfer {
    Transfer transfer;
    bool done = false;
    bool abort = false;
    Connection* data = nullptr;  // while the data connection is open
  };

  // The control loop's reads: one line at a time, read by a coroutine of its own so that the
  // loop can wait for a line and for the end of a transfer together (ABOR during a transfer).
  void start_read(std::size_t limit);
  Task<Flow> handle_line(Frame frame);
  Task<Flow> too_long(Frame head, std::size_t limit);
  Task<Flow> dispatch(const Command& c);
  Task<Flow> follow(Reply& reply);
  Task<Flow> open_passive(bool extended);
  // Starts the transfer beside the control loop; with a rule `then`, waits for it.
  Task<Flow> begin_transfer(Transfer t);
  Task<void> run_transfer(RunningTransfer& rt, const DataShape* shape,
                          std::optional<std::string> final_text, Json tag);
  Task<std::unique_ptr<Connection>> open_data(RunningTransfer& rt, const DataShape* shape,
                                              Json& event);
  Task<bool> control_send(std::string_view bytes, const Json& tag);
  // Stops a running transfer (ABOR, or the control connection ended) and waits for its end.
  Task<void> abort_transfer();
  Task<void> wait_transfer();

  FtpFake& fake_;
  Session& s_;
  const Config& config_;
  Protocol protocol_;
  Wakeup wake_;
  asio::steady_timer abort_timer_;  // a transfer that never connects waits on it
  std::unique_ptr<PassivePort> passive_;
  std::optional<HostPort> active_;
  std::unique_ptr<RunningTransfer> transfer_;
  std::uint64_t transfers_ = 0;
  // The pending line read.
  bool reading_ = false;
  std::optional<Frame> line_;
};

void FtpSession::start_read(std::size_t limit) {
  reading_ = true;
  asio::co_spawn(
      s_.conn().executor(),
      [this, limit]() -> Task<void> {
        Frame f = co_await s_.reader().read_line(limit);
        line_ = std::move(f);
        reading_ = false;
        wake_.notify();
      },
      asio::detached);
}

Task<bool> FtpSession::control_send(std::string_view bytes, const Json& tag) {
  WriteOptions options;
  if (!tag.is_null()) options.extra = tag;
  co_return co_await s_.conn().write(bytes, std::move(options));
}

Task<Flow> FtpSession::follow(Reply& reply) {
  for (auto& [name, event] : reply.events) s_.rec().event(name, std::move(event));
  reply.events.clear();
  switch (reply.effect) {
    case Effect::close:
      co_return co_await s_.end();
    case Effect::start_tls:
      // Input pipelined behind AUTH TLS is void (RFC 4217 11): start_tls() records and drops it.
      if (!co_await s_.start_tls()) co_return Flow::end;
      protocol_.tls_started();
      co_return Flow::next;
    default:
      co_return Flow::next;
  }
}

Task<Flow> FtpSession::open_passive(bool extended) {
  if (passive_) passive_->close();
  passive_.reset();
  active_.reset();
  const std::string local = host_of(s_.conn().local());
  if (local.empty())
    co_return co_await s_.send(reply(425, "Passive mode needs a TCP control connection."))
        ? Flow::next
        : Flow::end;
  error_code ec;
  passive_ = PassivePort::open(s_.conn().executor(), local, config_.passive_ports,
                               splitmix64(s_.number() * 131 + transfers_), ec);
  if (!passive_) {
    protocol_.data_failed();
    Json e = Json::object();
    e["error"] = ec.message();
    s_.rec().event("passive_failed", std::move(e));
    co_return co_await s_.send(reply(425, "Cannot open a passive port: " + ec.message() + "."))
        ? Flow::next
        : Flow::end;
  }
  std::string text;
  if (extended) {
    text = epsv_reply(passive_->port());
  } else if (auto r = pasv_reply(config_.passive_address.value_or(local), passive_->port())) {
    text = *r;
  } else {
    passive_.reset();
    co_return co_await s_.send(reply(522, "PASV is IPv4 only; use EPSV (RFC 2428).")) ? Flow::next
                                                                                      : Flow::end;
  }
  protocol_.passive_opened();
  co_return co_await s_.send(text) ? Flow::next : Flow::end;
}

Task<Flow> FtpSession::dispatch(const Command& c) {
  Reply r = protocol_.handle(c);
  if (r.effect == Effect::passive) co_return co_await open_passive(r.extended);
  if (r.effect == Effect::active) {
    if (passive_) passive_->close();
    passive_.reset();
    active_ = r.active;
  }
  if (r.effect == Effect::transfer) co_return co_await begin_transfer(std::move(*r.transfer));
  for (auto& [name, event] : r.events) s_.rec().event(name, std::move(event));
  r.events.clear();
  if (!co_await s_.send(r.bytes)) co_return Flow::end;
  co_return co_await follow(r);
}

Task<Flow> FtpSession::begin_transfer(Transfer t) {
  const RuleMatch* rule = s_.active_rule();
  const DataShape* shape = rule ? rule->rule->extension<DataShape>("data") : nullptr;
  std::optional<std::string> final_text = shape ? s_.scripted_text() : std::nullopt;
  Json tag = nullptr;
  if (rule) {
    tag = Json::object();
    tag["rule"] = rule->rule->name;
  }
  transfer_ = std::make_unique<RunningTransfer>();
  transfer_->transfer = std::move(t);
  ++transfers_;
  // While a transfer runs the control connection has no idle deadline (vsftpd's idle timer
  // also waits for transfers); the data connection has its own.
  s_.conn().set_idle_timeout(Duration::max());
  RunningTransfer& rt = *transfer_;
  asio::co_spawn(s_.conn().executor(), run_transfer(rt, shape, std::move(final_text), tag),
                 asio::detached);
  // A rule's `then` ends the connection after the transfer, not in the middle of it.
  if (rule && rule->action().then != Then::none) co_await wait_transfer();
  co_return Flow::next;
}

Task<std::unique_ptr<Connection>> FtpSession::open_data(RunningTransfer& rt, const DataShape* shape,
                                                        Json& event) {
  const Duration timeout = s_.server().config().idle_timeout;
  std::optional<StreamSocket> socket;
  error_code ec;
  if (shape && shape->never_connect) {
    // The port stays bound (or the client's port is never dialled) until the timeout or ABOR.
    event["connect"] = "never";
    abort_timer_.expires_after(timeout);
    co_await abort_timer_.async_wait(use_tuple);
    if (passive_) passive_->close();
    passive_.reset();
    active_.reset();
    co_return nullptr;
  }
  if (passive_) {
    event["mode"] = "passive";
    event["port"] = passive_->port();
    socket = co_await passive_->accept(timeout, ec);
    passive_->close();
    passive_.reset();
  } else if (active_) {
    event["mode"] = "active";
    event["port"] = active_->port;
    const HostPort target = *active_;
    active_.reset();
    socket = co_await connect_out(s_.conn().executor(), target.host, target.port, timeout, ec);
  }
  if (!socket || rt.abort) {
    if (ec) event["error"] = ec.message();
    co_return nullptr;
  }
  co_return open_channel(s_.server(), s_.rec(), std::move(*socket), "data");
}

Task<void> FtpSession::run_transfer(RunningTransfer& rt, const DataShape* shape,
                                    std::optional<std::string> final_text, Json tag) {
  using End = TransferOutcome::End;
  const Transfer& t = rt.transfer;
  TransferOutcome out;
  Json open = Json::object();
  open["transfer"] = transfers_;
  open["command"] = to_upper(std::string(t.kind == Transfer::Kind::retr   ? "RETR"
                                         : t.kind == Transfer::Kind::stor ? "STOR"
                                         : t.kind == Transfer::Kind::appe ? "APPE"
                                         : t.kind == Transfer::Kind::stou ? "STOU"
                                         : t.kind == Transfer::Kind::list ? "LIST"
                                         : t.kind == Transfer::Kind::nlst ? "NLST"
                                                                          : "MLSD"));
  open["path"] = t.path;
  // The final reply for how the transfer ended: the rule's, or the built-in one.
  // An upload is saved before its final reply: one that could not be saved (a full disk) is
  // answered 452 (RFC 959), never 226, and is not stored in the tree.
  std::optional<std::string> saved_upload;
  bool not_saved = false;
  auto final_reply = [&] {
    if (not_saved) return reply(452, "Requested action not taken. Insufficient storage space.");
    return final_text ? *final_text : protocol_.finish_transfer(t, out).bytes;
  };
  // Saved on the recorder's writer thread before the final reply; other sessions go on.
  auto save_upload = [&]() -> Task<void> {
    if (!t.upload() || saved_upload || !s_.rec().recording()) co_return;
    const bool would_accept =
        out.end == End::complete && !out.upload_too_big && reply_code_of(final_reply()) / 100 == 2;
    saved_upload =
        co_await s_.save(std::to_string(transfers_) + "-" + base_name(t.path), out.upload);
    if (saved_upload->empty() && would_accept) not_saved = true;
  };
  std::unique_ptr<Connection> data = co_await open_data(rt, shape, open);
  const bool replies_first = shape && shape->replies_first;
  const std::string preliminary =
      shape && shape->preliminary ? *shape->preliminary + "\r\n" : t.preliminary;
  std::string digest;
  bool final_sent = false;
  bool control_ok = true;

  if (!data) {
    // 425: no data connection (RFC 959 4.2); an ABOR while waiting is answered by 426.
    out.end = rt.abort ? End::aborted : End::failed;
    s_.rec().event("data_failed", "data", std::move(open));
    const std::string text = final_text ? *final_text
                             : rt.abort ? reply(426, "Transfer aborted. Data connection closed.")
                                        : reply(425, "Failed to establish connection.");
    control_ok = co_await control_send(text, tag);
    final_sent = true;
  } else {
    rt.data = data.get();
    open["peer"] = data->peer();
    open["tls"] = protocol_.protect_data();
    s_.rec().event("data_open", "data", std::move(open));
    std::string first = preliminary;
    if (replies_first) {
      first += final_text.value_or(protocol_.finish_transfer(t, TransferOutcome{}).bytes);
      final_sent = true;
    }
    control_ok = co_await control_send(first, tag);

    bool tls_ok = true;
    if (protocol_.protect_data()) {
      asio::ssl::context* context = s_.server().tls_context();
      tls_ok = context && co_await data->start_tls(*context);
      if (!tls_ok) {
        out.end = End::tls_failed;
      } else if (config_.require_session_reuse && !data->tls_resumed()) {
        Json e = Json::object();
        e["reason"] = "session reuse required";
        s_.rec().event("tls_refused", "data", std::move(e));
        tls_ok = false;
        out.end = End::tls_refused;
      }
    }
    WriteOptions options;
    if (shape) options.shaping = &shape->shaping;
    const std::optional<std::uint64_t> limit =
        shape ? (shape->cut_after ? shape->cut_after : shape->reset_after) : std::nullopt;
    const End limit_end = shape && shape->reset_after ? End::reset : End::cut;
    Sha256 sha;
    if (tls_ok && !t.upload()) {
      // A file is not recorded byte by byte (its size and digest are, in data_close); a
      // listing is, on the data channel.
      options.record = t.listing_kind();
      Content content = t.content;
      if (t.listing_kind()) content.bytes = std::make_shared<const std::string>(t.listing);
      std::uint64_t offset = t.listing_kind() ? 0 : t.offset;
      AsciiEncoder ascii;
      for (;;) {
        if (rt.abort) {
          out.end = End::aborted;
          break;
        }
        std::string error;
        // Content in memory is sent from where it is; a file on disk, or TYPE A, goes
        // through a copy.
        std::string copy;
        std::string_view chunk;
        if (!t.ascii || t.listing_kind()) chunk = view_content(content, offset, kChunk);
        if (chunk.empty()) {
          copy = read_content(content, offset, kChunk, &error);
          chunk = copy;
        }
        if (chunk.empty()) {
          if (!error.empty()) {
            Json e = Json::object();
            e["error"] = error;
            s_.rec().event("read_failed", "data", std::move(e));
            out.end = End::failed;
          }
          break;
        }
        offset += chunk.size();
        if (t.ascii && !t.listing_kind()) {
          copy = ascii.encode(chunk);
          chunk = copy;
        }
        bool at_limit = false;
        if (limit && out.bytes + chunk.size() >= *limit) {
          chunk = chunk.substr(0, static_cast<std::size_t>(*limit - out.bytes));
          at_limit = true;
        }
        if (out.bytes + chunk.size() <= kDigestLimit) sha.update(chunk);
        const std::uint64_t before = data->bytes_sent();
        const bool ok = co_await data->write(chunk, options);
        out.bytes += data->bytes_sent() - before;
        if (!ok) {
          out.end = rt.abort ? End::aborted : End::failed;
          break;
        }
        if (at_limit) {
          out.end = limit_end;
          break;
        }
      }
    } else if (tls_ok) {
      AsciiDecoder ascii;
      std::string buf(kChunk, '\0');
      for (;;) {
        if (rt.abort) {
          out.end = End::aborted;
          break;
        }
        std::size_t room = buf.size();
        if (limit)
          room = static_cast<std::size_t>(std::min<std::uint64_t>(room, *limit - out.bytes));
        if (room == 0) {
          out.end = limit_end;
          break;
        }
        const IoResult r = co_await data->read_some(asio::buffer(buf.data(), room));
        if (r.bytes > 0) {
          const std::string_view got(buf.data(), r.bytes);
          out.bytes += r.bytes;
          if (out.bytes <= kDigestLimit) sha.update(got);
          std::string piece = t.ascii ? ascii.decode(got) : std::string(got);
          // Past max_upload the rest is read and counted but not kept: the upload holds its
          // first max_upload bytes and is refused (552).
          const std::uint64_t room = config_.max_upload - out.upload.size();
          if (piece.size() > room) {
            piece.resize(static_cast<std::size_t>(room));
            out.upload_too_big = true;
          }
          out.upload += piece;
        }
        if (r.status == IoStatus::eof) {
          if (t.ascii) out.upload += ascii.finish();
          break;
        }
        if (!r.ok()) {
          out.end = rt.abort ? End::aborted : End::failed;
          break;
        }
      }
    }
    digest = sha.hex();
    rt.data = nullptr;
    if (out.end == End::reset) {
      data->reset(CloseReason::fault);
    } else {
      // Everything is sent (FIN, or close_notify and FIN), then the final reply: clients that
      // read the 226 before they close the data connection (Go's, this benchmark's) do not wait
      // for the linger of the close.
      co_await data->finish_sending(CloseReason::server);
      co_await save_upload();
      if (!final_sent && control_ok) control_ok = co_await control_send(final_reply(), tag);
      final_sent = true;
      co_await data->close(CloseReason::server);
    }
    Json close = Json::object();
    close["transfer"] = transfers_;
    close["bytes"] = out.bytes;
    close["reason"] = out.end == End::complete      ? "complete"
                      : out.end == End::cut         ? "cut"
                      : out.end == End::reset       ? "reset"
                      : out.end == End::aborted     ? "aborted"
                      : out.end == End::tls_refused ? "tls_refused"
                      : out.end == End::tls_failed  ? "tls_failed"
                                                    : "failed";
    if (!t.listing_kind() && tls_ok && out.bytes <= kDigestLimit) close["sha256"] = digest;
    s_.rec().event("data_close", "data", std::move(close));
  }

  if (data) co_await save_upload();
  if (!final_sent && control_ok) co_await control_send(final_reply(), tag);

  if (t.upload() && data) {
    const bool accepted =
        out.end == End::complete && !out.upload_too_big && reply_code_of(final_reply()) / 100 == 2;
    if (accepted) protocol_.store_upload(t, out.upload);
    Json e = Json::object();
    e["path"] = t.path;
    e["size"] = out.upload.size();
    e["sha256"] = sha256_hex(out.upload);
    e["accepted"] = accepted;
    if (out.upload_too_big) e["truncated"] = true;
    if (not_saved) e["reason"] = "not_saved";
    co_await save_upload();
    if (saved_upload && !saved_upload->empty()) e["file"] = *saved_upload;
    s_.rec().event("upload", std::move(e));
  }
  rt.done = true;
  wake_.notify();
}

Task<void> FtpSession::wait_transfer() {
  while (transfer_ && !transfer_->done) co_await wake_.wait();
  if (!transfer_) co_return;
  transfer_.reset();
  s_.conn().set_idle_timeout(s_.server().config().idle_timeout);
  s_.conn().restart_read_deadline();
}

Task<void> FtpSession::abort_transfer() {
  if (!transfer_) co_return;
  transfer_->abort = true;
  abort_timer_.cancel();
  if (passive_) passive_->close();
  if (transfer_->data) transfer_->data->reset(CloseReason::server);
  co_await wait_transfer();
}

Task<Flow> FtpSession::too_long(Frame head, std::size_t limit) {
  Frame rest = co_await s_.reader().skip_line(kSkipLimit);
  Json e = Json::object();
  e["too_long"] = true;
  e["limit"] = limit;
  s_.record_client(head.bytes + rest.bytes, std::move(e));
  if (rest.status == FrameStatus::eof || rest.status == FrameStatus::closed) co_return Flow::end;
  if (!co_await s_.send(
          reply(500, "Command line too long (the limit is " + std::to_string(limit) + " bytes).")))
    co_return Flow::end;
  if (rest.status == FrameStatus::too_long) {
    co_await s_.conn().close(CloseReason::server);
    co_return Flow::end;
  }
  co_return Flow::next;
}

Task<Flow> FtpSession::handle_line(Frame frame) {
  if (frame.status == FrameStatus::too_long)
    co_return co_await too_long(std::move(frame), config_.max_command);
  if (!frame.ok()) {
    // The client went away, maybe in the middle of a line: keep what it sent.
    if (!frame.bytes.empty()) {
      Json e = Json::object();
      e["partial"] = true;
      s_.record_client(frame.bytes, std::move(e));
    }
    co_return Flow::end;
  }
  const Command c = parse_command(frame.bytes);
  Json e = Json::object();
  e["command"] = c.verb;
  e["args"] = c.arg;
  s_.record_client(frame.bytes, std::move(e));
  if (transfer_) {
    // RFC 959 4.1.3: ABOR ends the transfer in progress (426, then 226 for the ABOR itself);
    // any other command waits for the transfer's end, as a real server reads it only then.
    if (c.verb == "ABOR") {
      co_await abort_transfer();
      co_return co_await s_.answer(Request{c.verb, c.arg, {}}, [&]() -> Task<Flow> {
        co_return co_await s_.send(reply(226, "ABOR successful.")) ? Flow::next : Flow::end;
      });
    }
    co_await wait_transfer();
  }
  co_return co_await s_.answer(Request{c.verb, c.arg, {}},
                               [&]() -> Task<Flow> { co_return co_await dispatch(c); });
}

Task<void> FtpSession::run() {
  s_.on_scripted_reply([this](const Session::ScriptedReply& r) -> Task<Flow> {
    Command c;
    c.verb = to_upper(r.request.on);
    c.arg = std::string(r.request.args);
    Reply followed = protocol_.follow_reply(c, reply_code_of(r.status_line));
    if (r.ending) {
      for (auto& [name, event] : followed.events) s_.rec().event(name, std::move(event));
      co_return Flow::next;
    }
    co_return co_await follow(followed);
  });
  Flow flow = co_await s_.answer("connect", s_.conn().peer(), [&]() -> Task<Flow> {
    co_return co_await s_.send(protocol_.greeting()) ? Flow::next : Flow::end;
  });
  while (flow == Flow::next) {
    if (!reading_ && !line_) start_read(config_.max_command);
    while (!line_ && !(transfer_ && transfer_->done)) co_await wake_.wait();
    if (!line_) {
      co_await wait_transfer();  // the transfer ended first; the read goes on
      continue;
    }
    Frame frame = std::move(*line_);
    line_.reset();
    flow = co_await handle_line(std::move(frame));
  }
  // The control connection is over: so is any transfer, and the pending read.
  co_await abort_transfer();
  if (reading_) {
    s_.conn().abort(CloseReason::server);
    while (reading_) co_await wake_.wait();
  }
  if (passive_) passive_->close();
}

Task<void> FtpFake::serve(Session& s) {
  FtpSession session(*this, s);
  co_await session.run();
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  const ServerConfig& sc = server.config();
  ConfigContext context;
  if (sc.scenario) {
    context.scenario_file = sc.scenario->file;
    context.seed = sc.scenario->seed;
    context.clock = sc.scenario->clock.now();
  }
  context.tls = sc.tls.mode;
  context.require_session_reuse = sc.tls.require_session_reuse;
  if (cfg.has("max_line")) context.max_line = sc.max_line;
  auto fake = std::make_unique<FtpFake>(server, context.clock);
  fake->configure(parse_config(cfg, context, fake->tree()));
  fake->tree().mark_start();
  return fake;
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "ftp";
  f.transport = Transport::stream;
  f.rules = rule_syntax();
  f.schema = ftp_schema_fragment();
  f.contract_greeting = "220";  // RFC 959 4.2: service ready
  f.create = create;
  return f;
}

}  // namespace protofarm::ftp
