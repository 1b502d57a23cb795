#include "fakes/nntp/nntp_fake.hpp"

#include <algorithm>
#include <chrono>

#include "fakes/common/bytes.hpp"
#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"
#include "fakes/common/session.hpp"
#include "fakes/nntp/article_store.hpp"
#include "fakes/nntp/nntp_codec.hpp"
#include "fakes/nntp/nntp_config.hpp"
#include "fakes/nntp/nntp_protocol.hpp"

namespace protofarm::nntp {

namespace {

// An over-long line is read and discarded up to this many bytes; a client that sends more
// without a line feed is not speaking NNTP, and the session ends.
constexpr std::size_t kSkipLimit = std::size_t{1024} * 1024;
// A posted article is read in pieces of this size.
constexpr std::size_t kChunk = std::size_t{64} * 1024;
// Article bytes are recorded in pieces of about this size, so a long post never sits whole in
// the transcript's memory.
constexpr std::size_t kRecordPiece = std::size_t{64} * 1024;
// The `posted` moment as rules and `rule` events name it (lower case, like `connect`).
constexpr std::string_view kPosted = "posted";

class NntpFake final : public StreamFake {
 public:
  NntpFake(Server& server, std::uint64_t seed, TimePoint clock)
      : server_(server), store_(seed, clock) {}
  ArticleStore& store() { return store_; }
  void configure(Config config) { config_ = std::move(config); }
  const Config& config() const { return config_; }
  Server& server() { return server_; }
  Task<void> serve(Session& s) override;
  void reset() override { store_.reset(); }

 private:
  Server& server_;
  Config config_;
  ArticleStore store_;  // for the whole run: what one session posts, the next one reads
};

TimePoint scenario_now(const std::shared_ptr<ScenarioContext>& scenario) {
  return scenario ? scenario->clock.now() : ScenarioClock{}.now();
}

// One connection: the command loop, AUTHINFO SASL lines, and posted articles.
class NntpSession {
 public:
  NntpSession(NntpFake& fake, Session& s)
      : s_(s),
        config_(fake.config()),
        protocol_(fake.config(), fake.store(),
                  SessionInfo{s.number(), s.conn().tls_active(),
                              [scenario = s.server().config().scenario] {
                                return scenario_now(scenario);
                              }}) {}

  Task<void> run();

 private:
  Task<Flow> command(const Frame& frame);
  Task<Flow> sasl_line(const Frame& frame);
  Task<Flow> too_long(Frame head, std::size_t limit);
  Task<Flow> scripted(const Session::ScriptedReply& r);
  // Records the reply's events, sends its bytes and then its streamed rest.
  Task<bool> deliver(Reply& reply);
  Task<Flow> follow(Effect effect);
  // After 340 or 335: reads the article, lets the rules answer the `posted` moment, and answers.
  Task<Flow> read_article();
  Task<ReceivedArticle> receive();
  void record_article_bytes(std::string& raw, bool force);
  // `file`: where the article was saved ("" when it was not).
  void record_post(std::uint64_t index, const ReceivedArticle& in, const PostOutcome& out,
                   std::optional<int> rule_code, const std::string& file);

  Session& s_;
  const Config& config_;
  Protocol protocol_;
  std::uint64_t posts_ = 0;
  // While the `posted` moment is answered: the article, and what a scripted reply made of it.
  const ReceivedArticle* received_ = nullptr;
  std::optional<PostOutcome> scripted_outcome_;
  std::optional<int> posted_code_;
};

Task<bool> NntpSession::deliver(Reply& reply) {
  // The events (login, ...) happened when the command was handled, before the reply.
  for (auto& [name, event] : reply.events) s_.rec().event(name, std::move(event));
  reply.events.clear();
  if (!reply.bytes.empty() && !co_await s_.send(reply.bytes)) co_return false;
  if (!reply.more) co_return true;
  std::string piece;
  for (bool more = true; more;) {
    piece.clear();
    more = reply.more(piece);
    if (!piece.empty() && !co_await s_.send(piece)) co_return false;
  }
  co_return true;
}

Task<Flow> NntpSession::follow(Effect effect) {
  if (effect == Effect::none) co_return Flow::next;
  if (effect == Effect::close) co_return co_await s_.end();
  if (effect == Effect::start_tls) {
    // Input pipelined behind STARTTLS is void (RFC 4642 2.2.2): start_tls() records and drops
    // it.
    // (Not `if (!co_await s_.start_tls())`: in a coroutine with no local variable in its outer
    // scope, as this one, GCC 12 makes the hoisted condition (__ifcd_0) the frame's first field,
    // ahead of the resume pointer; the handle then points 8 bytes into the frame and the first
    // resume runs on garbage (SIGILL after any reply). A named local keeps the layout right.)
    const bool started = co_await s_.start_tls();
    if (!started) co_return Flow::end;
    protocol_.tls_started();
    co_return Flow::next;
  }
  if (effect == Effect::read_article) co_return co_await read_article();
  co_return Flow::end;
}

Task<Flow> NntpSession::scripted(const Session::ScriptedReply& r) {
  const int code = reply_code_of(r.status_line);
  const std::string on = to_upper(r.request.on);
  if (on == kPostedMoment) {
    // The `posted` stage records the article with this code (read_article()).
    posted_code_ = code;
    if (received_) scripted_outcome_ = protocol_.follow_transfer(*received_, code);
    co_return Flow::next;
  }
  Command c;
  if (on == "CONNECT")
    c.verb = on;
  else
    c = parse_command(on + " " + std::string(r.request.args) + "\r\n");
  Reply followed = protocol_.follow_reply(c, code);
  for (auto& [name, event] : followed.events) s_.rec().event(name, std::move(event));
  if (r.ending) co_return Flow::next;
  co_return co_await follow(followed.effect);
}

Task<Flow> NntpSession::command(const Frame& frame) {
  const Command c = parse_command(frame.bytes);
  Json e = Json::object();
  e["command"] = c.verb;
  e["args"] = c.args;
  if (c.bare_lf) e["bare_lf"] = true;
  s_.record_client(frame.bytes, std::move(e));
  // A blank line is read past without a word, as nnrpd does; no rule answers it.
  if (c.verb.empty() && !c.has_nul) co_return Flow::next;
  // The built-in reply's effect (read an article, start TLS, close) follows once the rule's
  // `then` had its say (`on: POST, then: reset` resets after the 340); a scripted reply's effect
  // comes through the hook.
  Effect effect = Effect::none;
  const Flow flow = co_await s_.answer(Request{c.verb, c.args, {}}, [&]() -> Task<Flow> {
    Reply r = protocol_.handle(c);
    effect = r.effect;
    co_return co_await deliver(r) ? Flow::next : Flow::end;
  });
  if (flow == Flow::end) co_return Flow::end;
  co_return co_await follow(effect);
}

Task<Flow> NntpSession::sasl_line(const Frame& frame) {
  // A SASL response is not a command: no rule answers it.
  Json e = Json::object();
  e["sasl"] = true;
  s_.record_client(frame.bytes, std::move(e));
  Reply r = protocol_.handle_sasl(frame.bytes);
  co_return co_await deliver(r) ? Flow::next : Flow::end;
}

Task<Flow> NntpSession::too_long(Frame head, std::size_t limit) {
  Frame rest = co_await s_.reader().skip_line(kSkipLimit);
  Json e = Json::object();
  e["too_long"] = true;
  e["limit"] = limit;
  s_.record_client(head.bytes + rest.bytes, std::move(e));
  if (rest.status == FrameStatus::eof || rest.status == FrameStatus::closed) co_return Flow::end;
  protocol_.cancel_sasl();
  // nnrpd: 501 when the line starts with a command it knows, 500 when not.
  const auto known = Protocol::verb_names();
  const bool is_command =
      std::find(known.begin(), known.end(), parse_command(head.bytes).verb) != known.end();
  if (!co_await s_.send(reply(is_command ? 501 : 500, "Line too long"))) co_return Flow::end;
  if (rest.status == FrameStatus::too_long) {
    co_await s_.conn().close(CloseReason::server);
    co_return Flow::end;
  }
  co_return Flow::next;
}

// --- posted articles ----------------------------------------------------------------------------

void NntpSession::record_article_bytes(std::string& raw, bool force) {
  if (raw.empty() || (!force && raw.size() < kRecordPiece)) return;
  Json e = Json::object();
  e["article"] = true;
  s_.record_client(raw, std::move(e));
  raw.clear();
}

Task<ReceivedArticle> NntpSession::receive() {
  // RFC 3977 3.1.1: the article is a dot-terminated block, and only CRLF "." CRLF ends it (a
  // bare-LF "." line is the article's, as smtp's strict end_of_data reads DATA). Lines ended by
  // a bare LF are taken and counted; what goes beyond max_article is counted but not kept.
  MultilineDecoder decoder(BlockEnd::crlf, config_.max_article + 1, kMaxArticleLine);
  StuffingCheck stuffing;
  std::string raw;
  for (;;) {
    Frame f = co_await s_.reader().read_chunk(kChunk);
    const std::size_t used = decoder.feed(f.bytes);
    const std::string_view block = std::string_view(f.bytes).substr(0, used);
    stuffing.feed(block);
    raw += block;
    // Pipelined commands after the article are the command loop's.
    if (used < f.bytes.size()) s_.reader().unread(std::string_view(f.bytes).substr(used));
    record_article_bytes(raw, false);
    if (decoder.done() || !f.ok() || f.bytes.empty()) break;
  }
  record_article_bytes(raw, true);
  ReceivedArticle in;
  in.content = decoder.content();
  if (!decoder.done()) in.content += decoder.pending();
  in.size = decoder.size();
  in.complete = decoder.done();
  in.bare_lf_lines = decoder.bare_lf_lines();
  in.long_lines = decoder.long_lines();
  in.unstuffed_line = stuffing.first_bad_line();
  co_return in;
}

Task<Flow> NntpSession::read_article() {
  const ReceivedArticle in = co_await receive();
  const std::uint64_t index = ++posts_;
  // Saved before any answer: a 240 or 235 goes out only for an article on disk. Refused and
  // incomplete articles are kept too (the post event's rejected_file).
  const std::string file = co_await s_.save(std::to_string(index) + ".eml", in.content);
  const bool keepable = !s_.rec().recording() || !file.empty();
  if (!in.complete) {
    // The client went away in the middle of the article: keep what came, marked incomplete.
    record_post(index, in, protocol_.finish_transfer(in), std::nullopt, file);
    co_return Flow::end;
  }
  received_ = &in;
  scripted_outcome_.reset();
  posted_code_.reset();
  PostOutcome outcome;
  bool built_in = false;
  const Flow flow = co_await s_.answer(Request{kPosted, in.content, {}}, [&]() -> Task<Flow> {
    built_in = true;
    outcome = protocol_.finish_transfer(in, keepable);
    co_return co_await deliver(outcome.reply) ? Flow::next : Flow::end;
  });
  received_ = nullptr;
  if (!built_in)
    outcome = scripted_outcome_ ? std::move(*scripted_outcome_) : protocol_.follow_transfer(in, 0);
  record_post(index, in, outcome, built_in ? std::nullopt : posted_code_, file);
  co_return flow;
}

void NntpSession::record_post(std::uint64_t index, const ReceivedArticle& in,
                              const PostOutcome& out, std::optional<int> rule_code,
                              const std::string& file) {
  Json e = Json::object();
  e["index"] = index;
  e["via"] = out.via;
  e["size"] = in.size;
  e["complete"] = in.complete;
  e["accepted"] = out.accepted;
  if (!out.message_id.empty()) e["message_id"] = out.message_id;
  if (!out.numbers.empty()) {
    // {group: the number the article got there} (scenarios/README.md#nntp-transcripts).
    Json groups = Json::object();
    for (const auto& [group, number] : out.numbers) groups[group] = number;
    e["groups"] = std::move(groups);
  }
  if (rule_code)
    e["reply"] = *rule_code;
  else if (!out.reply.bytes.empty())
    e["reply"] = reply_code_of(out.reply.bytes);
  if (!out.reason.empty()) e["reason"] = out.reason;
  if (in.size > in.content.size()) e["truncated"] = true;
  if (in.bare_lf_lines) e["bare_lf_lines"] = in.bare_lf_lines;
  if (in.long_lines) e["long_lines"] = in.long_lines;
  // The payload key `file` names accepted articles only, so that `protofarm verify`'s payload
  // checks see what the server took; refused and incomplete ones are kept all the same.
  if (!file.empty()) e[out.accepted ? "file" : "rejected_file"] = file;
  s_.rec().event("post", std::move(e));
}

// --- the session --------------------------------------------------------------------------------

Task<void> NntpSession::run() {
  s_.on_scripted_reply([this](const Session::ScriptedReply& r) { return scripted(r); });
  Flow flow = co_await s_.answer("connect", s_.conn().peer(), [&]() -> Task<Flow> {
    if (!co_await s_.send(protocol_.greeting())) co_return Flow::end;
    // RFC 3977 5.1.1: a 400 or 502 greeting refuses service; the server closes.
    if (protocol_.greeting_closes()) co_return co_await s_.end();
    co_return Flow::next;
  });
  while (flow == Flow::next) {
    const bool sasl = protocol_.awaiting_sasl();
    const std::size_t limit =
        sasl ? std::max(config_.max_command, kMaxSaslLine) : config_.max_command;
    Frame frame = co_await s_.reader().read_line(limit);
    if (frame.status == FrameStatus::too_long) {
      flow = co_await too_long(std::move(frame), limit);
      continue;
    }
    if (!frame.ok()) {
      // The client went away, maybe in the middle of a line: keep what it sent.
      if (!frame.bytes.empty()) {
        Json e = Json::object();
        e["partial"] = true;
        s_.record_client(frame.bytes, std::move(e));
      }
      co_return;
    }
    // (Not `sasl ? co_await a : co_await b`: GCC 12 miscompiles co_await in a conditional.)
    if (sasl)
      flow = co_await sasl_line(frame);
    else
      flow = co_await command(frame);
  }
}

Task<void> NntpFake::serve(Session& s) {
  NntpSession session(*this, s);
  co_await session.run();
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  const ServerConfig& sc = server.config();
  ConfigContext context;
  if (sc.scenario) context.scenario_file = sc.scenario->file;
  context.tls = sc.tls.mode;
  if (cfg.has("max_line")) context.max_line = sc.max_line;
  auto fake = std::make_unique<NntpFake>(server, sc.scenario ? sc.scenario->seed : 0,
                                         scenario_now(sc.scenario));
  fake->configure(parse_config(cfg, context, fake->store()));
  fake->store().mark_start();
  return fake;
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "nntp";
  f.transport = Transport::stream;
  f.rules = rule_syntax();
  f.schema = nntp_schema_fragment();
  f.contract_greeting = "200";  // RFC 3977 5.1.1: service available, posting allowed
  f.create = create;
  return f;
}

}  // namespace protofarm::nntp
