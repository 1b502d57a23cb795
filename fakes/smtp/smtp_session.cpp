#include "fakes/smtp/smtp_session.hpp"

#include "fakes/common/bytes.hpp"

#include <algorithm>

namespace protofarm::smtp {

namespace {

// Body bytes are recorded in events of about this size, so a huge message never sits whole in
// memory twice.
constexpr std::size_t kRecordPiece = std::size_t{64} * 1024;
// How much of an over-long line is read at a time while it is discarded.
constexpr std::size_t kSkipPiece = std::size_t{64} * 1024;

class SmtpSession {
 public:
  SmtpSession(Session& s, const Options& options)
      : s_(s),
        options_(options),
        proto_(options, s.number(), s.conn().tls_active(), s.server().scenario().clock.now()) {}

  Task<void> run();

 private:
  Task<Flow> command(std::string line);
  Task<Flow> too_long_command(std::string head);
  Task<Flow> follow(Effect effect);
  Task<Flow> read_data();
  Task<Flow> bdat(const Command& cmd);
  Task<Flow> message_stage(const Envelope& env, std::string content, std::uint64_t size, Body body,
                           const char* via, Json extra);
  Task<Flow> auth_exchange();
  Task<Flow> start_tls();

  // Sends the outcome's reply, then records its events. False when the connection is gone.
  Task<bool> deliver(const Outcome& outcome);
  // The hook for scripted replies (session.hpp): the state follows the rule's reply code.
  Task<Flow> scripted(const Session::ScriptedReply& reply);
  // Reads and discards the rest of an over-long line; `head` is its start. Records it all.
  Task<FrameStatus> discard_rest(std::string head, Json extra);
  // Records DATA/BDAT bytes in pieces of kRecordPiece; `force` ends the body (or chunk).
  void record_data(std::string& raw, bool force);
  // Records the message event, saving the message first (on the recorder's writer thread)
  // unless `saved` names its file already. The caller's arguments live until it resumes.
  Task<void> record_message(const Envelope& env, const std::string& content, std::uint64_t size,
                            const char* via, bool complete, const Outcome* outcome,
                            std::optional<bool> accepted, Json extra,
                            const std::string* saved = nullptr);

  Session& s_;
  const Options& options_;
  Protocol proto_;
  std::uint64_t messages_ = 0;
  std::uint64_t data_recorded_ = 0, data_discarded_ = 0;  // of the body being read
  // The BDAT chunk being answered (what the scripted hook needs of it).
  std::string_view chunk_;
  std::uint64_t chunk_size_ = 0;
  // The code a rule answered the message stage with (nullopt: the built-in answered).
  std::optional<int> message_code_;
};

Task<Flow> SmtpSession::scripted(const Session::ScriptedReply& reply) {
  const int code = reply_code_of(reply.status_line);
  Command cmd;
  cmd.verb = to_upper(reply.request.on);
  if (cmd.verb == "MESSAGE") {
    // The message stage records the message with this code, and the transaction ends.
    message_code_ = code;
    proto_.follow_reply(cmd, code);
    co_return Flow::next;
  }
  cmd.args = std::string(reply.request.args);
  if (cmd.verb == "BDAT") {
    // A scripted 2xx to BDAT LAST accepts the message the chunks make.
    const Envelope env = proto_.envelope();
    const Effect effect = proto_.follow_reply(cmd, code, chunk_, chunk_size_);
    if (effect == Effect::accept_message) {
      const std::uint64_t total = proto_.chunk_total();
      std::string content = proto_.take_chunks();
      ++messages_;
      Outcome accepted;
      accepted.accepted = true;
      co_await record_message(env, content, total, "BDAT", true, &accepted, true, Json::object());
      proto_.follow_reply(Command{"MESSAGE", {}}, code);
      co_return Flow::next;
    }
    if (reply.ending) co_return Flow::next;
    co_return co_await follow(effect);
  }
  const Effect effect = proto_.follow_reply(cmd, code);
  if (reply.ending) co_return Flow::next;
  co_return co_await follow(effect);
}

Task<bool> SmtpSession::deliver(const Outcome& outcome) {
  bool ok = true;
  if (outcome.reply) ok = co_await s_.send(proto_.render(*outcome.reply));
  for (const auto& [name, data] : outcome.events) s_.rec().event(name, data);
  co_return ok;
}

void SmtpSession::record_data(std::string& raw, bool force) {
  if (!force && raw.size() < kRecordPiece) return;
  // A body is recorded up to the size limit (and a little past it, to show where it crossed);
  // beyond, its bytes are read and dropped as they stream, and a `discarded` event says how many.
  const std::uint64_t limit = options_.size_limit ? options_.size_limit + kRecordPiece
                                                  : std::numeric_limits<std::uint64_t>::max();
  if (data_recorded_ >= limit) {
    data_discarded_ += raw.size();
  } else if (!raw.empty()) {
    data_recorded_ += raw.size();
    Json e = Json::object();
    e["data"] = true;
    s_.record_client(raw, std::move(e));
  }
  raw.clear();
  if (force) {
    if (data_discarded_ > 0) {
      Json e = Json::object();
      e["bytes"] = data_discarded_;
      e["recorded"] = data_recorded_;
      s_.rec().event("discarded", std::move(e));
    }
    data_recorded_ = data_discarded_ = 0;
  }
}

Task<FrameStatus> SmtpSession::discard_rest(std::string head, Json extra) {
  // The first MiB of the line is recorded (in pieces marked `continued`); the rest is read and
  // dropped as it streams, and a `discarded` event says how much, so neither memory nor the
  // transcript grows with a client that never sends a line end.
  constexpr std::uint64_t kRecorded = std::uint64_t{1024} * 1024;
  std::uint64_t recorded = 0, discarded = 0;
  for (;;) {
    Frame rest = co_await s_.reader().skip_line(kSkipPiece);
    head += rest.bytes;
    if (recorded < kRecorded) {
      recorded += head.size();
      s_.record_client(head, extra);
      extra["continued"] = true;
    } else {
      discarded += head.size();
    }
    head.clear();
    if (rest.status != FrameStatus::too_long) {
      if (discarded > 0) {
        Json e = Json::object();
        e["bytes"] = discarded;
        e["recorded"] = recorded;
        s_.rec().event("discarded", std::move(e));
      }
      co_return rest.status;
    }
  }
}

Task<void> SmtpSession::run() {
  s_.on_scripted_reply([this](const Session::ScriptedReply& r) { return scripted(r); });
  Flow flow = co_await s_.answer("connect", s_.conn().peer(), [&]() -> Task<Flow> {
    co_return co_await s_.send(proto_.render(proto_.greeting())) ? Flow::next : Flow::end;
  });
  if (flow == Flow::end) co_return;
  for (;;) {
    Frame frame = co_await s_.reader().read_line(kMaxAuthLine);
    if (frame.status == FrameStatus::too_long) {
      flow = co_await too_long_command(std::move(frame.bytes));
    } else if (!frame.ok()) {
      if (!frame.bytes.empty()) {
        Json e = Json::object();
        e["partial"] = true;  // the client closed in the middle of a line
        s_.record_client(frame.bytes, std::move(e));
      }
      co_return;
    } else {
      flow = co_await command(std::move(frame.bytes));
    }
    if (flow == Flow::end) co_return;
  }
}

Task<Flow> SmtpSession::too_long_command(std::string head) {
  // Not a command: a line that long is refused unread, and its words mean nothing.
  Json extra = Json::object();
  extra["too_long"] = true;
  const FrameStatus status = co_await discard_rest(std::move(head), std::move(extra));
  // RFC 5321 4.5.3.1.4 and 4.5.3.1.10: "500 Line too long".
  const bool sent = co_await s_.send(
      proto_.render(make_reply(Code::kSyntaxError, "5.5.2", "Error: line too long")));
  co_return sent&& status == FrameStatus::ok ? Flow::next : Flow::end;
}

Task<Flow> SmtpSession::command(std::string line) {
  const Command cmd = parse_command(line);
  Json extra = Json::object();
  if (line.size() > kMaxCommandLine && cmd.verb != "AUTH") {
    extra["too_long"] = true;
    s_.record_client(line, std::move(extra));
    const bool sent = co_await s_.send(
        proto_.render(make_reply(Code::kSyntaxError, "5.5.2", "Error: line too long")));
    co_return sent ? Flow::next : Flow::end;
  }
  extra["command"] = cmd.verb;
  extra["args"] = cmd.args;
  if (cmd.bare_lf) extra["bare_lf"] = true;
  s_.record_client(line, std::move(extra));
  if (cmd.verb == "BDAT") co_return co_await bdat(cmd);

  // The built-in reply's effect (read a body, start TLS, ...) follows once the rule's `then`
  // had its say (`on: DATA, then: reset` resets after the 354); a scripted reply's effect comes
  // through the hook.
  Effect effect = Effect::none;
  const Flow flow = co_await s_.answer(cmd.verb, cmd.args, [&]() -> Task<Flow> {
    const Outcome outcome = proto_.handle(cmd);
    effect = outcome.effect;
    co_return co_await deliver(outcome) ? Flow::next : Flow::end;
  });
  if (flow == Flow::end) co_return Flow::end;
  co_return co_await follow(effect);
}

Task<Flow> SmtpSession::follow(Effect effect) {
  switch (effect) {
    case Effect::none:
    case Effect::message:
    case Effect::accept_message:
      co_return Flow::next;
    case Effect::close:
      co_return co_await s_.end();
    case Effect::read_data:
      co_return co_await read_data();
    case Effect::start_tls:
      co_return co_await start_tls();
    case Effect::auth:
      co_return co_await auth_exchange();
  }
  co_return Flow::next;
}

// --- DATA and BDAT ------------------------------------------------------------------------------

Task<Flow> SmtpSession::read_data() {
  const Envelope env = proto_.envelope();
  const std::uint64_t keep =
      options_.size_limit ? options_.size_limit + 1 : std::numeric_limits<std::uint64_t>::max();
  DataDecoder decoder(options_.end_of_data, keep);
  std::string raw;
  FrameStatus status = FrameStatus::ok;
  LineReader& reader = s_.reader();
  while (!decoder.done() && status == FrameStatus::ok) {
    Frame f = co_await reader.read_line(kMaxTextLine);
    raw += f.bytes;
    decoder.feed(f.bytes);
    if (f.status == FrameStatus::too_long) {
      // RFC 5321 4.5.3.1.6: the line is too long; read past it, reply when the body ends.
      for (;;) {
        Frame rest = co_await reader.skip_line(kSkipPiece);
        raw += rest.bytes;
        decoder.feed(rest.bytes);
        record_data(raw, false);
        if (rest.status != FrameStatus::too_long) {
          status = rest.status;
          break;
        }
      }
    } else {
      status = f.status;
    }
    record_data(raw, false);
  }
  record_data(raw, true);
  Json extra = Json::object();
  if (decoder.bare_lf_lines()) extra["bare_lf_lines"] = decoder.bare_lf_lines();
  if (decoder.long_lines()) extra["long_lines"] = decoder.long_lines();
  if (!decoder.done()) {
    // The client went away in the middle of the message: keep what came, marked incomplete.
    std::string partial = decoder.content();
    partial += decoder.pending();
    ++messages_;
    co_await record_message(env, partial, decoder.size(), "DATA", false, nullptr, false,
                            std::move(extra));
    co_return Flow::end;
  }
  Body body{decoder.size(), decoder.long_lines()};
  const std::uint64_t size = decoder.size();
  co_return co_await message_stage(env, decoder.take_content(), size, body, "DATA",
                                   std::move(extra));
}

Task<Flow> SmtpSession::bdat(const Command& cmd) {
  const auto args = proto_.bdat_args(cmd);
  std::string kept;
  std::uint64_t size = 0;
  if (args) {
    // RFC 3030 2: the chunk follows the command whatever the reply will be; read it first.
    size = args->size;
    const std::uint64_t room = proto_.chunk_room();
    std::uint64_t left = size;
    std::string raw;
    while (left > 0) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kSkipPiece));
      Frame f = co_await s_.reader().read_chunk(want);
      raw += f.bytes;
      if (kept.size() < room)
        kept.append(
            f.bytes, 0,
            static_cast<std::size_t>(std::min<std::uint64_t>(room - kept.size(), f.bytes.size())));
      left -= std::min<std::uint64_t>(left, f.bytes.size());
      if (!f.ok() || f.bytes.empty()) {
        record_data(raw, true);
        if (proto_.in_transaction() && !proto_.envelope().recipients.empty()) {
          std::string partial = proto_.take_chunks() + kept;
          ++messages_;
          const Envelope env = proto_.envelope();
          co_await record_message(env, partial, proto_.chunk_total() + (size - left), "BDAT", false,
                                  nullptr, false, Json::object());
        }
        co_return Flow::end;
      }
      record_data(raw, false);
    }
    record_data(raw, true);
  }

  chunk_ = kept;
  chunk_size_ = size;
  Effect effect = Effect::none;
  const Flow flow = co_await s_.answer("BDAT", cmd.args, [&]() -> Task<Flow> {
    const Outcome outcome = proto_.bdat(cmd, kept, size);
    effect = outcome.effect;
    co_return co_await deliver(outcome) ? Flow::next : Flow::end;
  });
  if (flow == Flow::end) co_return Flow::end;
  if (effect != Effect::message) co_return co_await follow(effect);
  const Envelope env = proto_.envelope();
  const std::uint64_t total = proto_.chunk_total();
  std::string content = proto_.take_chunks();
  co_return co_await message_stage(env, std::move(content), total, Body{total, 0}, "BDAT",
                                   Json::object());
}

Task<Flow> SmtpSession::message_stage(const Envelope& env, std::string content, std::uint64_t size,
                                      Body body, const char* via, Json extra) {
  const std::uint64_t number = ++messages_;
  Outcome outcome;
  bool built_in = false;
  message_code_.reset();
  std::optional<std::string> saved;  // the message file, saved before the 250 goes out
  const Flow flow = co_await s_.answer("message", content, [&]() -> Task<Flow> {
    built_in = true;
    outcome = proto_.end_of_message(body, number);
    if (outcome.accepted && s_.rec().recording()) {
      saved = co_await s_.save(std::to_string(number) + ".eml", content);
      if (saved->empty()) outcome = Protocol::not_saved();  // never a 250 for a lost message
    }
    co_return co_await deliver(outcome) ? Flow::next : Flow::end;
  });
  std::optional<bool> accepted;
  if (built_in) {
    accepted = outcome.accepted;
  } else if (message_code_) {
    // A rule answered: its reply code says whether the message was taken.
    accepted = *message_code_ >= 200 && *message_code_ < 300;
    extra["reply"] = *message_code_;
  }
  co_await record_message(env, content, size, via, true, built_in ? &outcome : nullptr, accepted,
                          std::move(extra), saved ? &*saved : nullptr);
  co_return flow;
}

Task<void> SmtpSession::record_message(const Envelope& env, const std::string& content,
                                       std::uint64_t size, const char* via, bool complete,
                                       const Outcome* outcome, std::optional<bool> accepted,
                                       Json extra, const std::string* saved) {
  const bool taken = complete && accepted.value_or(false);
  Json e = Json::object();
  e["index"] = messages_;
  e["via"] = via;
  e["mail_from"] = env.mail_from;
  e["recipients"] = env.recipients;
  e["size"] = size;
  // The payload key `file` names accepted messages only, so that `protofarm verify`'s payload
  // checks see what the server took; refused and incomplete messages are kept all the same.
  // (Not a conditional expression: GCC 12 mishandles co_await in one.)
  std::string file;
  if (saved)
    file = *saved;
  else
    file = co_await s_.save(std::to_string(messages_) + ".eml", content);
  if (!file.empty()) e[taken ? "file" : "rejected_file"] = file;
  e["complete"] = complete;
  e["accepted"] = taken;
  if (outcome && !outcome->queue_id.empty()) e["queue_id"] = outcome->queue_id;
  if (outcome && !outcome->reason.empty()) e["reason"] = outcome->reason;
  if (outcome && outcome->reply) e["reply"] = outcome->reply->number();
  if (size > content.size()) e["truncated"] = true;
  if (!env.body.empty()) e["body"] = env.body;
  if (env.smtputf8) e["smtputf8"] = true;
  if (env.declared_size) e["declared_size"] = *env.declared_size;
  if (extra.is_object())
    for (auto& [k, v] : extra.items()) e[k] = v;
  s_.rec().event("message", std::move(e));
  if (taken) {
    Publication p;
    p.server = s_.server().name();
    p.session = s_.number();
    p.kind = "message";
    p.meta["mail_from"] = env.mail_from;
    p.meta["recipients"] = env.recipients;
    p.content = content;
    s_.server().services().bus.publish(p);
  }
}

// --- AUTH and STARTTLS --------------------------------------------------------------------------

Task<Flow> SmtpSession::auth_exchange() {
  for (;;) {
    Frame f = co_await s_.reader().read_line(kMaxAuthLine);
    Json extra = Json::object();
    extra["auth_response"] = true;
    if (f.status == FrameStatus::too_long) {
      extra["too_long"] = true;
      const FrameStatus status = co_await discard_rest(std::move(f.bytes), std::move(extra));
      const bool sent = co_await deliver(proto_.auth_line_too_long());
      co_return sent&& status == FrameStatus::ok ? Flow::next : Flow::end;
    }
    if (!f.ok()) {
      extra["partial"] = true;
      s_.record_client(f.bytes, std::move(extra));
      co_return Flow::end;
    }
    s_.record_client(f.bytes, std::move(extra));
    const Outcome o = proto_.auth_response(f.bytes);
    if (!co_await deliver(o)) co_return Flow::end;
    if (o.effect != Effect::auth) co_return Flow::next;
  }
}

Task<Flow> SmtpSession::start_tls() {
  // Awaited into a variable: GCC 12 miscompiles a co_await in the body of an if whose
  // condition is itself a co_await (the coroutine traps with SIGILL).
  const bool upgraded = co_await s_.start_tls();
  if (!upgraded) {
    co_return co_await s_.end();
  }
  proto_.tls_started();
  co_return Flow::next;
}

}  // namespace

Task<void> serve_session(Session& session, const Options& options) {
  SmtpSession smtp(session, options);
  co_await smtp.run();
}

}  // namespace protofarm::smtp
