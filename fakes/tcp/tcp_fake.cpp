#include "fakes/tcp/tcp_fake.hpp"

#include "fakes/common/bytes.hpp"
#include "fakes/common/session.hpp"

namespace protofarm::tcp {

namespace {

enum class Framing { line, crlf, raw, delimiter, length };
enum class OnMismatch { close, reset, next };

struct Step {
  enum class Kind { send, expect, pause, close, reset, starttls } kind;
  std::string payload;                        // send
  std::shared_ptr<const boost::regex> regex;  // expect
  std::string pattern;
  Duration duration{0};  // pause; expect timeout (0: idle timeout)
  Shaping shaping;
};

struct Config {
  Framing framing = Framing::line;
  std::string delimiter;
  std::size_t length = 0;
  std::vector<Step> script;
  OnMismatch on_mismatch = OnMismatch::close;
  std::optional<std::string> banner;
  bool echo = false;
};

class TcpFake final : public StreamFake {
 public:
  TcpFake(Server& server, Config config) : server_(server), config_(std::move(config)) {}

  Task<void> serve(Session& s) override;

 private:
  Task<Frame> read_frame(Session& s);
  // Records an over-long frame and ends the session. Returns Flow::end.
  Task<Flow> too_long(Session& s, const Frame& frame);
  Task<Flow> run_script(Session& s);
  Task<void> run_rules(Session& s);
  // The word rules compare `on` with: the frame's first word, its terminator left out.
  std::string verb(std::string_view frame) const;

  Server& server_;
  Config config_;
};

Task<Frame> TcpFake::read_frame(Session& s) {
  LineReader& r = s.reader();
  switch (config_.framing) {
    case Framing::line:
      return r.read_line();
    case Framing::crlf:
      return r.read_until("\r\n", r.max_line());
    case Framing::delimiter:
      return r.read_until(config_.delimiter, r.max_line());
    case Framing::length:
      return r.read_exact(config_.length);
    case Framing::raw:
      break;
  }
  return r.read_chunk(r.max_line());
}

Task<Flow> TcpFake::too_long(Session& s, const Frame& frame) {
  s.record_client(frame.bytes);
  Json e = Json::object();
  e["limit"] = s.reader().max_line();
  s.rec().event("line_too_long", std::move(e));
  // Bytes beyond the limit are not read into memory: the session ends here.
  s.conn().reset(CloseReason::server);
  co_return Flow::end;
}

Task<Flow> TcpFake::run_script(Session& s) {
  std::vector<std::string> captures;
  for (std::size_t i = 0; i < config_.script.size(); ++i) {
    const Step& step = config_.script[i];
    switch (step.kind) {
      case Step::Kind::send: {
        WriteOptions options;
        options.shaping = &step.shaping;
        options.extra = Json::object();
        options.extra["step"] = i;
        if (!co_await s.conn().write(substitute_captures(step.payload, captures), options))
          co_return Flow::end;
        break;
      }
      case Step::Kind::expect: {
        const Duration idle = s.conn().idle_timeout();
        if (step.duration.count() > 0) s.conn().set_idle_timeout(step.duration);
        Frame frame = co_await read_frame(s);
        s.conn().set_idle_timeout(idle);
        if (frame.status == FrameStatus::too_long) co_return co_await too_long(s, frame);
        Json extra = Json::object();
        extra["step"] = i;
        s.record_client(frame.bytes, std::move(extra));
        if (!frame.ok()) co_return Flow::end;
        const std::uint64_t abandoned = regex_abandoned_count();
        const bool ok = regex_search_captures(*step.regex, frame.bytes, &captures);
        if (regex_abandoned_count() != abandoned) record_rule_error(s.rec(), "step", i);
        Json e = Json::object();
        e["step"] = i;
        e["pattern"] = step.pattern;
        e["matched"] = ok;
        s.rec().event("expect", std::move(e));
        if (!ok) {
          switch (config_.on_mismatch) {
            case OnMismatch::close:
              co_await s.conn().close(CloseReason::server);
              co_return Flow::end;
            case OnMismatch::reset:
              s.conn().reset(CloseReason::reset);
              co_return Flow::end;
            case OnMismatch::next:
              break;
          }
        }
        break;
      }
      case Step::Kind::pause:
        if (!co_await s.conn().sleep(step.duration)) co_return Flow::end;
        break;
      case Step::Kind::close:
        co_await s.conn().close(CloseReason::server);
        co_return Flow::end;
      case Step::Kind::reset:
        s.conn().reset(CloseReason::reset);
        co_return Flow::end;
      case Step::Kind::starttls:
        // Input that arrived before the handshake belongs to no TLS record: start_tls()
        // records it as discarded.
        if (!co_await s.start_tls()) co_return Flow::end;
        break;
    }
  }
  co_return Flow::next;
}

std::string TcpFake::verb(std::string_view frame) const {
  // A line or crlf terminator already ends the word; a delimiter (";", a NUL byte) would not,
  // and "QUIT;" must still be the verb QUIT.
  if (config_.framing == Framing::delimiter && frame.ends_with(config_.delimiter))
    frame.remove_suffix(config_.delimiter.size());
  return first_word(frame);
}

Task<void> TcpFake::run_rules(Session& s) {
  for (;;) {
    Frame frame = co_await read_frame(s);
    if (frame.status == FrameStatus::too_long) {
      co_await too_long(s, frame);
      co_return;
    }
    if (!frame.ok()) {
      s.record_client(frame.bytes);
      co_return;
    }
    s.record_client(frame.bytes);
    const Flow flow = co_await s.answer(verb(frame.bytes), frame.bytes, [&]() -> Task<Flow> {
      if (config_.echo && !co_await s.send(frame.bytes)) co_return Flow::end;
      co_return Flow::next;
    });
    if (flow == Flow::end) co_return;
  }
}

Task<void> TcpFake::serve(Session& s) {
  const Flow flow = co_await s.answer("connect", s.conn().peer(), [&]() -> Task<Flow> {
    if (config_.banner && !co_await s.send(*config_.banner)) co_return Flow::end;
    co_return Flow::next;
  });
  if (flow == Flow::end) co_return;
  if (!config_.script.empty() && co_await run_script(s) == Flow::end) co_return;
  co_await run_rules(s);
}

std::optional<Step> parse_step(const Cfg& cfg, bool has_starttls) {
  static const std::vector<std::string> kKinds = {"send",  "expect", "pause",
                                                  "close", "reset",  "starttls"};
  std::vector<std::string> kinds;
  for (const auto& k : kKinds)
    if (cfg.has(k)) kinds.push_back(k);
  if (kinds.size() != 1) {
    cfg.error("a step has exactly one of send, expect, pause, close, reset or starttls");
    return std::nullopt;
  }
  Step step{};
  const std::string& kind = kinds.front();
  if (kind == "send") {
    step.kind = Step::Kind::send;
    auto payload = parse_payload(cfg["send"]);
    if (!payload) return std::nullopt;
    step.payload = *payload;
    step.shaping = parse_shaping(cfg);
  } else if (kind == "expect") {
    step.kind = Step::Kind::expect;
    step.pattern = cfg["expect"].str();
    step.regex = compile_regex(cfg["expect"]);
    if (!step.regex) return std::nullopt;
    step.duration = cfg.duration_or("timeout", Duration{0});
  } else if (kind == "pause") {
    step.kind = Step::Kind::pause;
    step.duration = cfg["pause"].duration();
  } else if (kind == "close") {
    step.kind = Step::Kind::close;
  } else if (kind == "reset") {
    step.kind = Step::Kind::reset;
  } else {
    step.kind = Step::Kind::starttls;
    if (!has_starttls) cfg.error("a starttls step needs `tls: starttls` on the server");
  }
  if (kind != "send" && (cfg.has("pace") || cfg.has("fragment") || cfg.has("gap")))
    cfg.error("pace, fragment and gap go with a send step");
  if (kind != "expect" && cfg.has("timeout")) cfg.error("timeout goes with an expect step");
  return step;
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  Config config;
  const Cfg framing = cfg["framing"];
  if (framing.defined()) {
    if (framing.is_scalar()) {
      const std::string f = framing.str();
      config.framing = f == "crlf" ? Framing::crlf : f == "raw" ? Framing::raw : Framing::line;
    } else if (framing.has("delimiter") && framing.has("length")) {
      framing.error("give delimiter or length, not both");
    } else if (framing.has("delimiter")) {
      config.framing = Framing::delimiter;
      config.delimiter = parse_payload(framing["delimiter"]).value_or("\n");
      if (config.delimiter.empty()) framing["delimiter"].error("the delimiter must not be empty");
    } else if (framing.has("length")) {
      config.framing = Framing::length;
      config.length = static_cast<std::size_t>(framing["length"].integer(1));
      if (config.length > server.config().max_line)
        framing["length"].error("longer than max_line (" +
                                std::to_string(server.config().max_line) + ")");
    } else {
      framing.error("expected delimiter or length");
    }
  }
  const bool starttls = server.config().tls.mode == TlsMode::starttls;
  cfg["script"].for_each_item([&](const Cfg& item) {
    if (auto step = parse_step(item, starttls)) config.script.push_back(std::move(*step));
  });
  const std::string mismatch = cfg.str_or("on_mismatch", "close");
  config.on_mismatch = mismatch == "reset"      ? OnMismatch::reset
                       : mismatch == "continue" ? OnMismatch::next
                                                : OnMismatch::close;
  if (cfg.has("banner")) config.banner = parse_payload(cfg["banner"]);
  config.echo = cfg.bool_or("echo", false);
  return std::make_unique<TcpFake>(server, std::move(config));
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "tcp";
  f.transport = Transport::stream;
  f.schema = tcp_schema_fragment();
  f.contract_config = "banner: \"hello\\r\\n\"\n";
  f.contract_greeting = "hello\r\n";
  f.create = create;
  return f;
}

}  // namespace protofarm::tcp
