#include "fakes/common/session.hpp"

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <memory>

#include "fakes/common/bytes.hpp"

namespace protofarm {

const char* to_string(Transport transport) {
  return transport == Transport::datagram ? "datagram" : "stream";
}

std::string_view first_line(std::string_view text) {
  const std::size_t lf = text.find('\n');
  if (lf != std::string_view::npos) text = text.substr(0, lf);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

Server::Server(ServerConfig config, FarmServices& services)
    : config_(std::move(config)),
      services_(services),
      rules_(std::make_shared<RuleEngine>(
          config_.rules, config_.scenario ? config_.scenario->states : nullptr, config_.moments)) {}

Server::~Server() = default;

void Server::set_fake(std::unique_ptr<Fake> fake) { fake_ = std::move(fake); }

std::shared_ptr<RuleEngine> Server::make_rules(std::vector<Rule> rules) const {
  return std::make_shared<RuleEngine>(
      std::move(rules), config_.scenario ? config_.scenario->states : nullptr, config_.moments);
}

void Server::replace_rules(std::shared_ptr<RuleEngine> rules) {
  retired_rules_.push_back(std::move(rules_));
  rules_ = std::move(rules);
  std::erase_if(retired_rules_, [this](const std::shared_ptr<RuleEngine>& engine) {
    if (engine.use_count() > 1) return false;  // a session still answers with it
    if (fake_) fake_->forget_rules(engine->rules());
    return true;
  });
}

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

Task<std::string> Session::save(std::string name, std::string_view bytes) {
  if (!rec().recording()) co_return std::string();
  SessionRecorder& rec = this->rec();
  co_return co_await asio::async_initiate<const asio::use_awaitable_t<>, void(std::string)>(
      [&rec, &name, bytes](auto handler) {
        // The writer thread tells the path; the coroutine resumes on its own executor. The
        // handler is shared only to fit in a std::function, and moved on, so the writer's
        // copy is empty once it has been told. The work guard keeps the loop running meanwhile:
        // a session waiting for the writer has no operation of the loop's pending, and a loop
        // with nothing else to do (a farm stopping) would end without it.
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        auto work = asio::make_work_guard(asio::get_associated_executor(*shared));
        rec.save_file_async(name, bytes, [shared, work](std::string path) mutable {
          asio::post(work.get_executor(),
                     [handler = std::move(shared), path = std::move(path)]() mutable {
                       std::move (*handler)(std::move(path));
                     });
          work.reset();
        });
      },
      asio::use_awaitable);
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

void record_rule_error(SessionRecorder& rec, const char* key, Json who) {
  Json e = Json::object();
  e[key] = std::move(who);
  e["error"] = kRegexAbandoned;
  rec.event("rule_error", std::move(e));
}

void record_rule_errors(SessionRecorder& rec, RuleEngine& rules) {
  for (std::string& name : rules.take_abandoned()) record_rule_error(rec, "rule", std::move(name));
}

void Session::record_rule_errors() { protofarm::record_rule_errors(rec(), *rules_); }

Task<Flow> Session::answer(Request request, BuiltIn builtin, std::string_view line_end) {
  std::optional<RuleMatch> match = rules_->match(request);
  co_return co_await answer(std::move(match), std::move(request), std::move(builtin), line_end);
}

Task<Flow> Session::answer(std::optional<RuleMatch> match, Request request, BuiltIn builtin,
                           std::string_view line_end) {
  record_rule_errors();
  if (!match) co_return co_await builtin();

  if (rec().recording()) {
    Json e = Json::object();
    e["rule"] = match->rule->name;
    e["on"] = std::string(request.on);
    e["count"] = match->count;
    rec().event("rule", std::move(e));
  }
  const RuleAction& action = match->action();
  if (action.delay.count() > 0 && !co_await conn_.sleep(action.delay)) co_return Flow::end;

  std::optional<RuleMatch> outer = std::move(active_);  // answer() may nest inside a builtin
  active_ = std::move(match);
  Flow flow = Flow::next;
  // A rule whose key shapes the built-in (FTP's data:) lets it run; it sends the reply itself.
  const bool answers = action.answers() && !active_->keeps_builtin();
  const std::string sent = answers ? scripted_text(line_end).value_or("") : std::string{};
  if (answers) {
    if (!sent.empty() && !co_await send(sent)) flow = Flow::end;
  } else {
    flow = co_await builtin();
  }
  active_ = std::move(outer);
  if (answers && scripted_hook_) {
    const bool ending = action.then != Then::none || flow == Flow::end || !conn_.is_open();
    const Flow after = co_await scripted_hook_(ScriptedReply{request, first_line(sent), ending});
    if (!ending) flow = after;
  }
  if (flow == Flow::end || !conn_.is_open()) co_return Flow::end;
  co_return co_await apply_then(conn_, action.then);
}

std::optional<std::string> Session::scripted_text(std::string_view line_end) const {
  if (!active_) return std::nullopt;
  const RuleAction& action = active_->action();
  if (action.raw) return *action.raw;
  if (!action.reply) return std::nullopt;
  std::string text;
  for (const auto& line : *action.reply) {
    text += substitute_captures(line, active_->captures);
    text += line_end;
  }
  return text;
}

Task<Flow> Session::end() {
  // A rule's `then` (say, reset after QUIT) ends the connection its own way when answer()
  // returns; closing here first would take that away.
  if (active_ && active_->action().then != Then::none) co_return Flow::next;
  co_await conn_.close(CloseReason::server);
  co_return Flow::end;
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
