#include "fakes/common/session.hpp"

#include "fakes/common/bytes.hpp"

namespace protofarm {

Task<void> Fake::serve(Session&) { co_return; }
Task<void> Fake::serve_datagrams(DatagramSocket&) { co_return; }
void Fake::describe(Json&) const {}
void Fake::shutdown() {}

Server::Server(ServerConfig config, FarmServices& services)
    : config_(std::move(config)),
      services_(services),
      rules_(config_.rules, config_.scenario ? config_.scenario->states : nullptr) {}

Server::~Server() = default;

void Server::set_fake(std::unique_ptr<Fake> fake) { fake_ = std::move(fake); }

Task<Flow> apply_then(Connection& conn, Then then) {
  switch (then) {
    case Then::none:
      co_return conn.is_open() ? Flow::next : Flow::end;
    case Then::close:
      co_await conn.close(CloseReason::server);
      co_return Flow::end;
    case Then::reset:
      conn.reset(CloseReason::reset);
      co_return Flow::end;
    case Then::hang:
      co_await conn.hang();
      co_return Flow::end;
  }
  co_return Flow::end;
}

Task<bool> Session::start_tls() {
  if (reader_.has_buffered()) {
    Json e = Json::object();
    e["discarded"] = true;
    record_client(reader_.take_buffered(), std::move(e));
  }
  asio::ssl::context* context = server_.tls_context();
  if (!context) {
    Json e = Json::object();
    e["error"] = "the server has no TLS certificate (tls: none)";
    rec().event("tls_failed", std::move(e));
    co_return false;
  }
  co_return co_await conn_.start_tls(*context);
}

Task<Flow> Session::answer(std::string_view on, std::string_view args, BuiltIn builtin,
                           std::string_view line_end) {
  std::optional<RuleMatch> match = server_.rules().match(on, args);
  if (!match) {
    const Flow flow = co_await builtin();
    last_rule_ = nullptr;  // after the built-in, which may answer() itself
    co_return flow;
  }
  const Rule* fired = match->rule;

  if (rec().recording()) {
    Json e = Json::object();
    e["rule"] = match->rule->name;
    e["on"] = std::string(on);
    e["count"] = match->count;
    rec().event("rule", std::move(e));
  }
  const RuleAction& action = match->action();
  if (action.delay.count() > 0 && !co_await conn_.sleep(action.delay)) co_return Flow::end;

  std::optional<RuleMatch> outer = std::move(active_);  // answer() may nest inside a builtin
  active_ = std::move(match);
  Flow flow = Flow::next;
  if (action.reply) {
    std::string out;
    for (const auto& line : *action.reply) {
      out += substitute_captures(line, active_->captures);
      out += line_end;
    }
    if (!out.empty() && !co_await send(out)) flow = Flow::end;
  } else if (action.raw) {
    if (!action.raw->empty() && !co_await send(*action.raw)) flow = Flow::end;
  } else {
    flow = co_await builtin();
  }
  active_ = std::move(outer);
  last_rule_ = fired;
  if (flow == Flow::end || !conn_.is_open()) co_return Flow::end;
  co_return co_await apply_then(conn_, action.then);
}

Task<bool> Session::send(std::string_view bytes) {
  WriteOptions options;
  if (active_) {
    options.shaping = &active_->action().shaping;
    options.extra = Json::object();
    options.extra["rule"] = active_->rule->name;
  }
  co_return co_await conn_.write(bytes, std::move(options));
}

Task<bool> Session::send_line(std::string_view line, std::string_view line_end) {
  std::string out;
  out.reserve(line.size() + line_end.size());
  out.append(line);
  out.append(line_end);
  co_return co_await send(out);
}

}  // namespace protofarm
