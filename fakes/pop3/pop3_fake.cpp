#include "fakes/pop3/pop3_fake.hpp"

#include <algorithm>
#include <chrono>

#include "fakes/common/bytes.hpp"
#include "fakes/common/session.hpp"
#include "fakes/pop3/mail_store.hpp"
#include "fakes/pop3/pop3_codec.hpp"
#include "fakes/pop3/pop3_config.hpp"
#include "fakes/pop3/pop3_protocol.hpp"

namespace protofarm::pop3 {

namespace {

// RFC 5034 4 lets SASL responses be longer than a command line; this bounds them.
constexpr std::size_t kSaslLineLimit = 4096;
// An over-long line is read and discarded up to this many bytes; a client that sends more
// without a line feed is not speaking POP3, and the session ends.
constexpr std::size_t kSkipLimit = std::size_t{1024} * 1024;

class Pop3Fake final : public StreamFake {
 public:
  Pop3Fake(Server& server, std::uint64_t seed) : server_(server), store_(seed) {}

  MailStore& store() { return store_; }
  void configure(Config config) { config_ = std::move(config); }
  const Config& config() const { return config_; }

  Task<void> serve(Session& s) override;
  void reset() override { store_.reset(); }
  // A message accepted by an smtp server named in deliveries_from.
  void deliver(const Publication& message);

 private:
  std::string timestamp_for(std::uint64_t session) const;
  // Sends a built-in reply and carries out its effect.
  Task<Flow> carry_out(Session& s, Protocol& protocol, Reply reply);
  // Carries out the effect of a reply that was sent (records its events first).
  Task<Flow> follow(Session& s, Protocol& protocol, Reply& reply);
  // Reads and discards the rest of an over-long line, records it, answers -ERR.
  Task<Flow> too_long(Session& s, Protocol& protocol, Frame head, std::size_t limit);

  Server& server_;
  Config config_;
  MailStore store_;
};

std::string Pop3Fake::timestamp_for(std::uint64_t session) const {
  if (config_.apop_timestamp) return *config_.apop_timestamp;
  // RFC 1939 7: "<process-ID.clock@hostname>", different for every greeting. Here the
  // "process id" comes from the seed and the server's name, the session number makes it
  // unique, and the clock is the scenario's: the same scenario gives the same timestamps.
  const std::uint64_t seed = server_.config().scenario ? server_.config().scenario->seed : 0;
  const std::uint64_t pid = 1000 + fnv1a(server_.name(), fnv1a(std::to_string(seed))) % 30000;
  std::int64_t clock = 0;
  if (server_.config().scenario) {
    clock = std::chrono::duration_cast<std::chrono::seconds>(
                server_.config().scenario->clock.now().time_since_epoch())
                .count();
  }
  return "<" + std::to_string(pid) + "." + std::to_string(session) + "." + std::to_string(clock) +
         "@" + config_.hostname + ">";
}

Task<Flow> Pop3Fake::carry_out(Session& s, Protocol& protocol, Reply reply) {
  // The events (login, update) happened when the command was handled, before the reply.
  for (auto& [name, event] : reply.events) s.rec().event(name, std::move(event));
  reply.events.clear();
  if (!co_await s.send(reply.bytes)) co_return Flow::end;
  co_return co_await follow(s, protocol, reply);
}

Task<Flow> Pop3Fake::follow(Session& s, Protocol& protocol, Reply& reply) {
  for (auto& [name, event] : reply.events) s.rec().event(name, std::move(event));
  switch (reply.effect) {
    case Effect::none:
      co_return Flow::next;
    case Effect::close:
      co_return co_await s.end();
    case Effect::start_tls:
      // Input pipelined behind STLS is void (RFC 2595 4): start_tls() records and drops it.
      if (!co_await s.start_tls()) co_return Flow::end;
      protocol.tls_started();
      co_return Flow::next;
  }
  co_return Flow::end;
}

Task<Flow> Pop3Fake::too_long(Session& s, Protocol& protocol, Frame head, std::size_t limit) {
  Frame rest = co_await s.reader().skip_line(kSkipLimit);
  Json e = Json::object();
  e["too_long"] = true;
  e["limit"] = limit;
  s.record_client(head.bytes + rest.bytes, std::move(e));
  if (rest.status == FrameStatus::eof || rest.status == FrameStatus::closed) co_return Flow::end;
  protocol.cancel_sasl();
  // RFC 2449 4: command lines are at most 255 octets, including the CRLF.
  const std::string text = "line too long (the limit is " + std::to_string(limit) +
                           " octets including CRLF, RFC 2449 4)";
  if (!co_await s.send(err(text))) co_return Flow::end;
  if (rest.status == FrameStatus::too_long) {
    co_await s.conn().close(CloseReason::server);
    co_return Flow::end;
  }
  co_return Flow::next;
}

Task<void> Pop3Fake::serve(Session& s) {
  Protocol protocol(config_, store_, timestamp_for(s.number()), s.conn().tls_active());
  s.on_scripted_reply([&](const Session::ScriptedReply& r) -> Task<Flow> {
    const Command command =
        to_upper(r.request.on) == "CONNECT"
            ? Command{"CONNECT", "", {}}
            : parse_command(std::string(r.request.on) + " " + std::string(r.request.args) + "\r\n");
    Reply followed = protocol.follow_reply(command, r.status_line.starts_with("+OK"));
    if (r.ending) {
      for (auto& [name, event] : followed.events) s.rec().event(name, std::move(event));
      co_return Flow::next;
    }
    co_return co_await follow(s, protocol, followed);
  });
  const Flow greeted = co_await s.answer("connect", s.conn().peer(), [&]() -> Task<Flow> {
    co_return co_await s.send(protocol.greeting()) ? Flow::next : Flow::end;
  });
  if (greeted == Flow::end) co_return;
  for (;;) {
    const bool sasl = protocol.awaiting_sasl();
    const std::size_t limit =
        sasl ? std::max(config_.max_command, kSaslLineLimit) : config_.max_command;
    Frame frame = co_await s.reader().read_line(limit);
    if (frame.status == FrameStatus::too_long) {
      if (co_await too_long(s, protocol, std::move(frame), limit) == Flow::end) co_return;
      continue;
    }
    if (!frame.ok()) {
      // The client went away, maybe in the middle of a line: keep what it sent.
      if (!frame.bytes.empty()) {
        Json e = Json::object();
        e["partial"] = true;
        s.record_client(frame.bytes, std::move(e));
      }
      co_return;
    }
    if (sasl) {
      // A SASL response is not a command: no rule answers it.
      Json e = Json::object();
      e["sasl"] = true;
      s.record_client(frame.bytes, std::move(e));
      if (co_await carry_out(s, protocol, protocol.handle_sasl(frame.bytes)) == Flow::end)
        co_return;
      continue;
    }
    const Command command = parse_command(frame.bytes);
    Json e = Json::object();
    e["command"] = command.verb;
    e["args"] = command.args;
    s.record_client(frame.bytes, std::move(e));
    const Flow flow = co_await s.answer(command.verb, command.args, [&]() -> Task<Flow> {
      co_return co_await carry_out(s, protocol, protocol.handle(command));
    });
    if (flow == Flow::end) co_return;
  }
}

void Pop3Fake::deliver(const Publication& message) {
  if (message.kind != "message") return;
  const auto recipients =
      message.meta.value("recipients", Json::array()).get<std::vector<std::string>>();
  const DeliveryResult result =
      store_.deliver(recipients, message.content,
                     "smtp:" + message.server + "/" + std::to_string(message.session));
  // Deliveries happen outside any POP3 session: they are farm-wide events.jsonl lines.
  Json e = Json::object();
  e["server"] = server_.name();
  e["event"] = "delivery";
  e["time"] = iso8601(std::chrono::system_clock::now());
  e["smtp_server"] = message.server;
  e["smtp_session"] = message.session;
  e["mail_from"] = message.meta.value("mail_from", "");
  e["recipients"] = recipients;
  e["octets"] = normalize_message(message.content).size();
  e["mailboxes"] = result.mailboxes;
  e["unknown"] = result.unknown;
  server_.services().sink.append_event(e);
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  const ServerConfig& sc = server.config();
  ConfigContext context;
  if (sc.scenario) {
    context.scenario_file = sc.scenario->file;
    context.server_protocols = sc.scenario->server_protocols;
  }
  context.tls = sc.tls.mode;
  if (cfg.has("max_line")) context.max_line = sc.max_line;
  auto fake = std::make_unique<Pop3Fake>(server, sc.scenario ? sc.scenario->seed : 0);
  fake->configure(parse_config(cfg, context, fake->store()));
  fake->store().mark_start();
  // The fake lives as long as its Server, which the farm keeps for the whole run.
  Pop3Fake* target = fake.get();
  for (const auto& smtp : fake->config().deliveries_from)
    server.services().bus.subscribe(smtp, [target](const Publication& p) { target->deliver(p); });
  return fake;
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "pop3";
  f.transport = Transport::stream;
  f.rules.on = Protocol::verb_names();
  f.schema = pop3_schema_fragment();
  f.contract_greeting = "+OK";  // RFC 1939 4: the greeting
  f.create = create;
  return f;
}

}  // namespace protofarm::pop3
