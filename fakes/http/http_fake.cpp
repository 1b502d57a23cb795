#include "fakes/http/http_fake.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <map>

#include "fakes/common/bytes.hpp"
#include "fakes/common/child_process.hpp"
#include "fakes/common/content.hpp"
#include "fakes/common/digest.hpp"
#include "fakes/common/net.hpp"
#include "fakes/common/session.hpp"
#include "fakes/http/cgi.hpp"
#include "fakes/http/docroot.hpp"
#include "fakes/http/http_codec.hpp"
#include "fakes/http/http_config.hpp"

namespace protofarm::http {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t kChunk = std::size_t{64} * 1024;
// Response bodies sent from a file or generated are not recorded byte by byte (the transcript
// gives their size and digest); the digest is computed up to this size.
constexpr std::uint64_t kDigestLimit = std::uint64_t{64} * 1024 * 1024;
// How many local redirects (RFC 3875 6.2.2) one request may follow.
constexpr int kMaxLocalRedirects = 5;
// The body of a local redirect's GET.
const std::string kNoBody;
// What random_data_then_close sends.
constexpr std::size_t kRandomBytes = 1024;

class HttpFake final : public StreamFake {
 public:
  HttpFake(Server& server, Config config, std::map<const Rule*, Content> bodies,
           ConfigContext context)
      : server_(server),
        config_(std::move(config)),
        bodies_(std::move(bodies)),
        context_(std::move(context)) {
    const ScenarioContext* sc = server.config().scenario.get();
    seed_ = sc ? sc->seed : 0;
    if (config_.docroot) {
      DocrootOptions options;
      options.listing = config_.listing;
      options.clock = sc ? sc->clock.now() : TimePoint{};
      options.seed = seed_;
      docroot_.emplace(*config_.docroot, options);
    }
  }

  Task<void> serve(Session& s) override;
  // Rules replaced at run time get their body files read now; the bodies of the rules they
  // replace stay while sessions still use those (Server::replace_rules).
  void prepare_rules(const std::vector<Rule>& rules, ConfigErrors& errors) override {
    auto bodies = resolve_bodies(rules, context_, errors);
    if (!errors.empty()) return;
    for (auto& [rule, content] : bodies) bodies_.insert_or_assign(rule, std::move(content));
  }
  void forget_rules(const std::vector<Rule>& rules) override {
    for (const Rule& rule : rules) bodies_.erase(&rule);
  }

  Server& server() { return server_; }
  const Config& config() const { return config_; }
  const Docroot* docroot() const { return docroot_ ? &*docroot_ : nullptr; }
  std::uint64_t seed() const { return seed_; }
  const Content* body_of(const Rule* rule) const {
    const auto it = bodies_.find(rule);
    return it == bodies_.end() ? nullptr : &it->second;
  }

 private:
  Server& server_;
  Config config_;
  std::map<const Rule*, Content> bodies_;
  ConfigContext context_;
  std::optional<Docroot> docroot_;
  std::uint64_t seed_ = 0;
};

// A response the session sends: status, headers and a body.
struct Response {
  unsigned status = 200;
  std::string reason;
  Headers headers;
  Content body;
  bool record_body = true;  // false for files and generated bodies (size and digest instead)
};

Content text_content(std::string text) {
  Content c;
  c.bytes = std::make_shared<const std::string>(std::move(text));
  return c;
}

Json headers_json(const Headers& headers) {
  Json out = Json::object();
  for (const auto& [name, value] : headers) {
    auto it = out.find(name);
    if (it == out.end()) {
      out[name] = value;
    } else {
      if (!it->is_array()) *it = Json::array({*it});
      it->push_back(value);
    }
  }
  return out;
}

// The status a raw reply starts with ("HTTP/1.1 401 ..."), 0 when it does not read as one.
unsigned raw_status(std::string_view raw) {
  if (!raw.starts_with("HTTP/") || raw.size() < 12 || raw[8] != ' ') return 0;
  unsigned status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return 0;
    status = status * 10 + static_cast<unsigned>(raw[i] - '0');
  }
  return status;
}

// One connection: requests read one after another (pipelined ones in order) and answered.
class HttpSession {
 public:
  HttpSession(HttpFake& fake, Session& s) : fake_(fake), s_(s), config_(fake.config()) {}

  Task<void> run();

 private:
  Task<Flow> one_request();
  // Reads the rest of the body; false when the request ended otherwise (answered or gone).
  Task<bool> read_body(RequestParser& parser);
  Task<Flow> refuse(RequestParser& parser);
  // The built-in behaviour, or the active rule's reply or fault.
  Task<Flow> respond(const RequestHead& head, const std::string& body);
  Task<Flow> route(std::string method, std::string path, std::string query, const RequestHead& head,
                   const std::string& body, int redirects);
  Task<Flow> serve_static(const StaticAnswer& answer, const RequestHead& head);
  Task<Flow> run_cgi(const ScriptLocation& script, const std::string& method,
                     const std::string& query, const RequestHead& head, const std::string& body,
                     int redirects);
  // The response a rule's `reply:` describes, captures substituted.
  Response response_of(const ReplySpec& reply, const RuleMatch& match) const;
  Task<Flow> scripted_reply(const ReplySpec& reply, const RuleMatch& match);
  Task<Flow> fault(const FaultSpec& fault, const RuleMatch& match);

  Task<Flow> send(Response response);
  Task<Flow> send_error(unsigned status, std::string detail);
  Task<bool> write(std::string_view bytes, bool record = true, Json extra = nullptr);
  Task<bool> write_body(const Content& body, std::uint64_t offset, std::uint64_t length,
                        bool record, Sha256* digest);
  // Date, Server and Connection, as every response has them (unless it has them already).
  void add_standard_headers(Headers& headers) const;
  bool closing() const { return close_after_ || !keep_alive_; }
  // The `request_body` event: the decoded body saved under files/ (as smtp's `message`).
  // Saves the body (on the recorder's writer thread) and records its request_body event.
  Task<void> record_body(std::uint64_t index, const std::string& body, bool complete);

  HttpFake& fake_;
  Session& s_;
  const Config& config_;
  std::uint64_t requests_ = 0;
  bool keep_alive_ = true;    // what the current request asked for
  bool close_after_ = false;  // the response ends the connection
  bool head_only_ = false;    // HEAD: no body
  unsigned version_ = 11;     // of the current request
};

Task<void> HttpSession::run() {
  // The client speaks first; a rule on `connect` may still greet it (or refuse it).
  const Flow greeted =
      co_await s_.answer("connect", s_.conn().peer(), []() -> Task<Flow> { co_return Flow::next; });
  if (greeted == Flow::end) co_return;
  for (;;) {
    const Flow flow = co_await one_request();
    if (flow == Flow::end) co_return;
  }
}

Task<Flow> HttpSession::one_request() {
  RequestParser parser(config_.limits);
  // A pipelined request is already buffered: start with it.
  if (s_.reader().has_buffered()) parser.feed(s_.reader().take_buffered());
  while (parser.state() == RequestParser::State::need_head) {
    // The head, once begun, must be whole within the server's command_timeout (slowloris).
    if (!parser.head_bytes().empty() || !parser.pending().empty()) s_.reader().start_frame_clock();
    Frame f = co_await s_.reader().read_chunk(kChunk);
    if (!f.ok()) {
      // The client went away (or idled out) before a whole head: keep what it sent.
      const std::string partial = parser.head_bytes() + std::string(parser.pending()) + f.bytes;
      if (!partial.empty()) {
        Json e = Json::object();
        e["partial"] = true;
        s_.record_client(partial, std::move(e));
      }
      co_return Flow::end;
    }
    parser.feed(f.bytes);
  }
  s_.reader().stop_frame_clock();
  if (parser.state() == RequestParser::State::error) co_return co_await refuse(parser);

  const RequestHead& head = parser.head();
  const std::uint64_t index = ++requests_;
  keep_alive_ = head.keep_alive;
  version_ = head.version;
  close_after_ = false;
  head_only_ = head.method == "HEAD";
  Json e = Json::object();
  e["request"] = index;
  e["command"] = head.method;  // what verify's `commands` and show read, as in every fake
  e["args"] = head.target;
  e["method"] = head.method;
  e["target"] = head.target;
  e["version"] = head.version_text();
  e["headers"] = headers_json(head.headers);
  s_.record_client(parser.head_bytes(), std::move(e));

  // What the rules see: the method, the target in origin form, the headers and the body.
  const std::string args =
      head.path == "*" ? "*" : head.path + (head.query.empty() ? "" : "?" + head.query);
  std::vector<std::string> names;
  names.reserve(head.headers.size());
  for (const auto& [name, value] : head.headers) names.push_back("header:" + to_lower(name));
  Request request{head.method, args, {}};
  for (std::size_t i = 0; i < names.size(); ++i)
    request.fields.push_back(Request::Field{names[i], head.headers[i].second});

  std::optional<RuleMatch> match;
  if (head.expect_continue && head.has_body()) {
    // RFC 9110 10.1.1: the rules see the head first, so one can refuse (417, 401, 413) before
    // the client sends the body. A rule that accepts gets the body read first.
    match = s_.rules().match(request);
    bool refuse_now = false;
    if (match) {
      const RuleAction& action = match->action();
      if (const auto* fault = match->rule->extension<FaultSpec>("fault")) {
        refuse_now = fault != nullptr;
      } else if (const auto* reply = match->rule->extension<ReplySpec>("reply")) {
        refuse_now = reply->status >= 400;
      } else if (action.raw) {
        refuse_now = raw_status(*action.raw) >= 400 || raw_status(*action.raw) == 0;
      }
    }
    if (refuse_now) {
      const Flow flow = co_await s_.answer(std::move(match), request, [&]() -> Task<Flow> {
        co_return co_await respond(head, parser.body());
      });
      // The body was never asked for: a client that sends it anyway has its bytes read as the
      // next request, so whatever of it arrived with the head is dropped and recorded here.
      if (s_.reader().has_buffered() || !parser.pending().empty()) {
        Json d = Json::object();
        d["discarded"] = true;
        s_.record_client(std::string(parser.pending()) + s_.reader().take_buffered(), std::move(d));
        parser.take_leftover();
      }
      if (flow == Flow::end || closing()) {
        if (flow != Flow::end) co_await s_.conn().close(CloseReason::server);
        co_return Flow::end;
      }
      co_return Flow::next;
    }
    if (!co_await write("HTTP/1.1 100 Continue\r\n\r\n")) co_return Flow::end;
  }
  if (!co_await read_body(parser)) co_return Flow::end;
  const std::string& body = parser.body();
  if (!parser.body_bytes().empty() || !body.empty()) {
    Json b = Json::object();
    b["request"] = index;
    b["body"] = true;
    s_.record_client(parser.body_bytes(), std::move(b));
    co_await record_body(index, body, true);
  }
  s_.reader().unread(parser.take_leftover());
  request.fields.push_back(Request::Field{"body", body});

  if (head.expect_continue && head.has_body()) {
    // The rules saw the head already (and counted what they matched). Only the rules that look
    // at the body had no say; one of them placed before the head's match answers instead.
    const Rule* first = match ? match->rule : nullptr;
    auto later = s_.rules().match(request, [first](const Rule& r) {
      return r.extensions.contains("when_body") && (!first || &r < first);
    });
    if (later) match = std::move(later);
  } else {
    match = s_.rules().match(request);
  }
  const Flow flow = co_await s_.answer(
      std::move(match), request, [&]() -> Task<Flow> { co_return co_await respond(head, body); });
  if (flow == Flow::end) co_return Flow::end;
  if (closing()) {
    co_await s_.conn().close(CloseReason::server);
    co_return Flow::end;
  }
  co_return Flow::next;
}

Task<bool> HttpSession::read_body(RequestParser& parser) {
  parser.feed({});
  while (parser.state() == RequestParser::State::need_body) {
    Frame f = co_await s_.reader().read_chunk(kChunk);
    if (!f.ok()) {
      // The client went away in the middle of its body: keep what it sent.
      const std::string partial = parser.body_bytes() + std::string(parser.pending()) + f.bytes;
      Json e = Json::object();
      e["request"] = requests_;
      e["body"] = true;
      e["partial"] = true;
      s_.record_client(partial, std::move(e));
      co_await record_body(requests_, parser.body(), false);
      co_return false;
    }
    parser.feed(f.bytes);
  }
  if (parser.state() == RequestParser::State::error) {
    co_await refuse(parser);
    co_return false;
  }
  co_return true;
}

Task<void> HttpSession::record_body(std::uint64_t index, const std::string& body, bool complete) {
  Json e = Json::object();
  e["request"] = index;
  e["size"] = body.size();
  e["complete"] = complete;
  const std::string file = co_await s_.save(std::to_string(index) + ".body", body);
  if (!file.empty()) e["file"] = file;
  s_.rec().event("request_body", std::move(e));
}

Task<Flow> HttpSession::refuse(RequestParser& parser) {
  // A request that cannot be read: its framing is lost, so the connection closes after the
  // error, as strict servers do.
  const RequestError& error = parser.error();
  Json e = Json::object();
  e["error"] = error.status;
  e["detail"] = error.detail;
  const std::string bytes = parser.head_done()
                                ? parser.body_bytes() + std::string(parser.pending())
                                : parser.head_bytes() + std::string(parser.pending());
  if (parser.head_done()) e["body"] = true;
  s_.record_client(bytes, std::move(e));
  parser.take_leftover();
  close_after_ = true;
  head_only_ = false;
  co_await send_error(error.status, error.detail);
  if (s_.conn().is_open()) co_await s_.conn().close(CloseReason::server);
  co_return Flow::end;
}

Task<Flow> HttpSession::respond(const RequestHead& head, const std::string& body) {
  if (const RuleMatch* match = s_.active_rule()) {
    if (const auto* fault = match->rule->extension<FaultSpec>("fault"))
      co_return co_await this->fault(*fault, *match);
    if (const auto* reply = match->rule->extension<ReplySpec>("reply"))
      co_return co_await scripted_reply(*reply, *match);
  }
  co_return co_await route(head.method, head.path, head.query, head, body, 0);
}

Task<Flow> HttpSession::route(std::string method, std::string path, std::string query,
                              const RequestHead& head, const std::string& body, int redirects) {
  if (method == "OPTIONS") {
    // OPTIONS * and OPTIONS of a path: what this server allows (RFC 9110 9.3.7).
    Response r;
    r.headers.emplace_back("Allow", "GET, HEAD, POST, OPTIONS");
    co_return co_await send(std::move(r));
  }
  if (config_.cgi) {
    const NormalizedPath normal = normalize_path(path);
    if (normal.status == NormalizedPath::Status::ok &&
        normal.path.starts_with(config_.cgi->prefix)) {
      const ScriptLocation script =
          locate_script(config_.cgi->dir, config_.cgi->prefix, normal.path);
      if (script.status == ScriptLocation::Status::ok)
        co_return co_await run_cgi(script, method, query, head, body, redirects);
      if (script.status == ScriptLocation::Status::forbidden)
        co_return co_await send_error(403, "the script is not executable");
    }
  }
  if (const Docroot* docroot = fake_.docroot()) {
    StaticRequest sr;
    sr.method = method;
    sr.path = path;
    sr.query = query;
    sr.if_none_match = head.header("If-None-Match");
    sr.if_modified_since = head.header("If-Modified-Since");
    sr.range = head.header("Range");
    sr.if_range = head.header("If-Range");
    if (redirects > 0) sr.if_none_match = sr.if_modified_since = sr.range = sr.if_range = {};
    if (auto answer = docroot->answer(sr)) co_return co_await serve_static(*answer, head);
  }
  co_return co_await send_error(404, "nothing at " + path);
}

Task<Flow> HttpSession::serve_static(const StaticAnswer& answer, const RequestHead& /*head*/) {
  Headers headers = answer.headers;
  add_standard_headers(headers);
  const std::string head_bytes = render_head(answer.status, "", headers);
  Content file;
  file.kind = Content::Kind::disk;
  file.file = answer.file.string();
  const bool small_file = !head_only_ && answer.status != 304 && answer.body.size() == 1 &&
                          answer.body[0].from_file && answer.body[0].length <= kChunk &&
                          s_.active_rule() == nullptr;
  // A file that cannot be read now (out of file descriptors, removed meanwhile) gets an error
  // answer, never a 200 whose promised body then breaks off.
  // 503 when the farm is out of descriptors (it may pass), else 500.
  const auto unreadable = [&](const std::string& why, int error) -> Task<Flow> {
    co_return co_await send_error(error == EMFILE || error == ENFILE ? 503 : 500, why);
  };
  if (small_file) {
    // The usual case, a small file: head and body in one write (one system call, one packet).
    // The head is recorded as it always is; the body, as every file body, by size and digest.
    const BodyPart& part = answer.body[0];
    file.size = part.offset + part.length;
    std::string why;
    int error = 0;
    std::string bytes =
        read_content(file, part.offset, static_cast<std::size_t>(part.length), &why, &error);
    if (!why.empty()) co_return co_await unreadable(why, error);
    if (bytes.size() == part.length) {
      Json e = Json::object();
      e["status"] = answer.status;
      s_.rec().server(head_bytes, std::move(e));
      Json b = Json::object();
      b["size"] = bytes.size();
      b["sha256"] = sha256_hex(bytes);
      b["source"] = file.file;
      if (!co_await write(head_bytes + bytes, false)) co_return Flow::end;
      s_.rec().event("response_body", std::move(b));
      co_return Flow::next;
    }
  }
  if (!head_only_ && answer.status != 304) {
    for (const BodyPart& part : answer.body) {
      if (!part.from_file || part.length == 0) continue;
      file.size = part.offset + part.length;
      std::string why;
      int error = 0;
      read_content(file, part.offset, 1, &why, &error);  // can it be read at all?
      if (!why.empty()) co_return co_await unreadable(why, error);
      break;
    }
  }
  Json e = Json::object();
  e["status"] = answer.status;
  if (!co_await write(head_bytes, true, std::move(e))) co_return Flow::end;
  if (head_only_ || answer.status == 304) co_return Flow::next;
  std::uint64_t sent = 0;
  Sha256 digest;
  for (const BodyPart& part : answer.body) {
    if (part.from_file) {
      file.size = part.offset + part.length;
      if (!co_await write_body(file, part.offset, part.length, false, &digest)) co_return Flow::end;
    } else {
      digest.update(part.literal);
      if (!co_await write(part.literal, false)) co_return Flow::end;
    }
    sent += part.size();
  }
  Json b = Json::object();
  b["size"] = sent;
  b["sha256"] = digest.hex();
  if (!answer.file.empty()) b["source"] = answer.file.string();
  s_.rec().event("response_body", std::move(b));
  co_return Flow::next;
}

Task<Flow> HttpSession::run_cgi(const ScriptLocation& script, const std::string& method,
                                const std::string& query, const RequestHead& head,
                                const std::string& body, int redirects) {
  CgiRequest req;
  req.method = method;
  req.query = query;
  req.script_name = script.script_name;
  req.path_info = script.path_info;
  if (const Docroot* docroot = fake_.docroot(); docroot && !script.path_info.empty())
    req.path_translated = (docroot->root() / script.path_info.substr(1)).string();
  req.protocol = head.version_text();
  const std::string& local = s_.conn().local();
  const std::string& peer = s_.conn().peer();
  // Addresses as the connection names them ("127.0.0.1:40000", "[::1]:8080"); a Unix socket's
  // have no host or port.
  std::string why;
  if (auto remote = parse_listen(peer, why)) {
    req.remote_addr = remote->host;
    req.remote_port = remote->port;
  }
  if (auto server = parse_listen(local, why)) {
    req.server_name = server->host;
    req.server_port = server->port;
  }
  if (auto host = head.header("Host")) {
    std::string_view h = *host;
    const std::size_t colon = h.rfind(':');
    if (colon != std::string_view::npos && h.find(']', colon) == std::string_view::npos)
      h = h.substr(0, colon);
    if (!h.empty()) req.server_name = std::string(h);
  }
  if (auto auth = head.header("Authorization")) {
    const std::string_view a = *auth;
    req.auth_type = std::string(a.substr(0, a.find(' ')));
    if (iequals(req.auth_type, "Basic")) {
      const std::size_t space = a.find(' ');
      const std::optional<std::string> decoded =
          space == std::string_view::npos ? std::nullopt : base64_decode(a.substr(space + 1));
      if (decoded) req.remote_user = decoded->substr(0, decoded->find(':'));
    }
  }
  req.https = s_.conn().tls_active();
  if (redirects == 0) {
    if (head.has_body()) req.content_length = body.size();
    req.headers = head.headers;
  } else {
    for (const auto& h : head.headers)
      if (!iequals(h.first, "Content-Length") && !iequals(h.first, "Content-Type"))
        req.headers.push_back(h);
  }

  ChildSpec spec;
  spec.argv = {script.file.string()};
  spec.env = cgi_environment(req, script.file);
  spec.cwd = script.file.parent_path().string();
  if (redirects == 0) spec.stdin_bytes = body;
  spec.deadline = config_.cgi->timeout;
  spec.max_stdout =
      static_cast<std::size_t>(std::max<std::uint64_t>(config_.limits.max_body, kChunk));
  Json start = Json::object();
  start["script"] = script.script_name;
  start["path_info"] = script.path_info;
  start["query"] = query;
  s_.rec().event("cgi_start", "cgi", std::move(start));
  const auto began = std::chrono::steady_clock::now();
  ChildResult result = co_await run_child(s_.conn().executor(), std::move(spec));
  Json end = Json::object();
  end["script"] = script.script_name;
  if (result.spawn_error) {
    end["error"] = result.spawn_error.message();
  } else {
    end["exit"] = result.status.describe();
    end["ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::steady_clock::now() - began)
                    .count();
    end["stdout_size"] = result.stdout_bytes.size();
    if (result.killed_on_deadline) end["timed_out"] = true;
    if (result.stdout_truncated) end["stdout_truncated"] = true;
  }
  s_.rec().event("cgi_end", "cgi", std::move(end));
  if (!result.stderr_bytes.empty()) {
    Json err = Json::object();
    err["script"] = script.script_name;
    err["text"] = result.stderr_bytes;
    s_.rec().event("cgi_stderr", "cgi", std::move(err));
  }
  if (!s_.conn().is_open()) co_return Flow::end;
  if (result.spawn_error) co_return co_await send_error(500, "the script could not be started");
  if (result.killed_on_deadline) {
    co_return co_await send_error(
        504, "the script did not finish within " + format_duration(config_.cgi->timeout));
  }
  if (is_nph(script.script_name)) {
    // The script wrote the whole response; where it ends is its business, so the connection
    // closes after it.
    close_after_ = true;
    Json e = Json::object();
    e["nph"] = true;
    if (!co_await write(result.stdout_bytes, true, std::move(e))) co_return Flow::end;
    co_return Flow::next;
  }
  CgiResponse out = parse_cgi_output(result.stdout_bytes);
  switch (out.kind) {
    case CgiResponse::Kind::invalid:
      co_return co_await send_error(502, "the script's response is not CGI: " + out.error);
    case CgiResponse::Kind::local_redirect: {
      if (redirects >= kMaxLocalRedirects)
        co_return co_await send_error(500, "too many local redirects");
      // (Named first: GCC 12 mishandles temporaries made in a co_await's arguments.)
      const std::size_t q = out.location.find('?');
      std::string path = out.location.substr(0, q);
      std::string target_query = q == std::string::npos ? "" : out.location.substr(q + 1);
      std::string get = "GET";
      const Flow flow = co_await route(std::move(get), std::move(path), std::move(target_query),
                                       head, kNoBody, redirects + 1);
      co_return flow;
    }
    case CgiResponse::Kind::client_redirect:
    case CgiResponse::Kind::document: {
      Response r;
      r.status = out.status;
      r.reason = out.reason;
      r.headers = std::move(out.headers);
      r.body = text_content(std::move(out.body));
      co_return co_await send(std::move(r));
    }
  }
  co_return Flow::end;
}

Response HttpSession::response_of(const ReplySpec& reply, const RuleMatch& match) const {
  Response r;
  r.status = reply.status;
  r.reason = reply.reason;
  for (const auto& [name, value] : reply.headers)
    r.headers.emplace_back(name, substitute_captures(value, match.captures));
  if (const Content* body = fake_.body_of(match.rule)) {
    r.body = *body;
    r.record_body = false;
  } else {
    r.body = text_content(substitute_captures(reply.body, match.captures));
  }
  return r;
}

Task<Flow> HttpSession::scripted_reply(const ReplySpec& reply, const RuleMatch& match) {
  co_return co_await send(response_of(reply, match));
}

Task<Flow> HttpSession::fault(const FaultSpec& fault, const RuleMatch& match) {
  using Kind = FaultSpec::Kind;
  // The response the fault breaks: the rule's reply, or a small text.
  Response r;
  if (const auto* reply = match.rule->extension<ReplySpec>("reply")) {
    r = response_of(*reply, match);
  } else {
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.body = text_content("This response is broken on purpose by protofarm.\n");
  }
  const std::uint64_t size = r.body.length();
  Json e = Json::object();
  e["fault"] = fault_name(fault.kind);
  switch (fault.kind) {
    case Kind::empty_response:
      s_.rec().event("fault", std::move(e));
      co_await s_.conn().close(CloseReason::fault);
      co_return Flow::end;
    case Kind::connection_reset:
      s_.rec().event("fault", std::move(e));
      s_.conn().reset(CloseReason::fault);
      co_return Flow::end;
    case Kind::random_data_then_close: {
      s_.rec().event("fault", std::move(e));
      const std::string junk = generated_bytes(fake_.seed() ^ requests_, 0, kRandomBytes);
      if (co_await write(junk)) co_await s_.conn().close(CloseReason::fault);
      co_return Flow::end;
    }
    default:
      break;
  }
  const bool chunked = fault.kind == Kind::malformed_chunk || fault.kind == Kind::no_final_chunk;
  Headers headers = r.headers;
  std::uint64_t send_bytes = size;
  if (chunked) {
    headers.emplace_back("Transfer-Encoding", "chunked");
  } else {
    std::uint64_t length = size;
    if (fault.kind == Kind::content_length_short) length = size / 2;
    if (fault.kind == Kind::content_length_long) length = size * 2 + 1;
    if (fault.kind == Kind::body_cut_after) send_bytes = std::min(size, fault.bytes);
    headers.emplace_back("Content-Length", std::to_string(length));
    e["content_length"] = length;
  }
  add_standard_headers(headers);
  e["body_sent"] = fault.kind == Kind::headers_only_then_hang ? 0 : send_bytes;
  s_.rec().event("fault", std::move(e));
  if (!co_await write(render_head(r.status, r.reason, headers))) co_return Flow::end;
  switch (fault.kind) {
    case Kind::headers_only_then_hang:
      co_await s_.conn().hang();
      co_return Flow::end;
    case Kind::malformed_chunk: {
      // A chunk whose size line is not hex, in the middle of a body.
      const std::string first =
          read_content(r.body, 0, static_cast<std::size_t>(std::min<std::uint64_t>(size, 16)));
      if (co_await write(chunk(first) + "zz; not a chunk size\r\n" +
                         read_content(r.body, first.size(), kChunk) + "\r\n"))
        co_await s_.conn().close(CloseReason::fault);
      co_return Flow::end;
    }
    case Kind::no_final_chunk:
      for (std::uint64_t at = 0; at < size; at += kChunk) {
        if (!co_await write(chunk(read_content(r.body, at, kChunk)))) co_return Flow::end;
      }
      co_await s_.conn().hang();
      co_return Flow::end;
    default:
      break;
  }
  if (!co_await write_body(r.body, 0, send_bytes, true, nullptr)) co_return Flow::end;
  if (fault.kind == Kind::content_length_short) co_return Flow::next;  // the client is now off
  co_await s_.conn().close(CloseReason::fault);
  co_return Flow::end;
}

void HttpSession::add_standard_headers(Headers& headers) const {
  auto has = [&](std::string_view name) { return find_header(headers, name).has_value(); };
  const ScenarioContext* sc = fake_.server().config().scenario.get();
  if (!has("Date")) headers.emplace_back("Date", http_date(sc ? sc->clock.now() : TimePoint{}));
  if (!has("Server")) headers.emplace_back("Server", "protofarm");
  if (has("Connection")) return;
  // HTTP/1.1 keeps the connection unless told; an HTTP/1.0 client that asked to keep it is told
  // that it may.
  if (closing())
    headers.emplace_back("Connection", "close");
  else if (version_ == 10)
    headers.emplace_back("Connection", "keep-alive");
}

Task<Flow> HttpSession::send(Response response) {
  Headers& headers = response.headers;
  const bool body_allowed =
      response.status >= 200 && response.status != 204 && response.status != 304;
  if (!find_header(headers, "Content-Length") && !find_header(headers, "Transfer-Encoding") &&
      body_allowed)
    headers.emplace_back("Content-Length", std::to_string(response.body.length()));
  if (auto connection = find_header(headers, "Connection");
      connection && iequals(*connection, "close"))
    close_after_ = true;
  add_standard_headers(headers);
  Json e = Json::object();
  e["status"] = response.status;
  if (!co_await write(render_head(response.status, response.reason, headers), true, std::move(e)))
    co_return Flow::end;
  if (head_only_ || !body_allowed || response.body.length() == 0) co_return Flow::next;
  Sha256 digest;
  if (!co_await write_body(response.body, 0, response.body.length(), response.record_body,
                           response.record_body ? nullptr : &digest))
    co_return Flow::end;
  if (!response.record_body) {
    Json b = Json::object();
    b["size"] = response.body.length();
    b["sha256"] = digest.hex();
    s_.rec().event("response_body", std::move(b));
  }
  co_return Flow::next;
}

Task<Flow> HttpSession::send_error(unsigned status, std::string detail) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body = text_content(error_page(status, detail));
  co_return co_await send(std::move(r));
}

Task<bool> HttpSession::write(std::string_view bytes, bool record, Json extra) {
  WriteOptions options;
  options.record = record;
  options.extra = std::move(extra);
  if (const RuleMatch* match = s_.active_rule()) {
    options.shaping = &match->action().shaping;
    if (!options.extra.is_object()) options.extra = Json::object();
    options.extra["rule"] = match->rule->name;
  }
  co_return co_await s_.conn().write(bytes, std::move(options));
}

Task<bool> HttpSession::write_body(const Content& body, std::uint64_t offset, std::uint64_t length,
                                   bool record, Sha256* digest) {
  const std::uint64_t end = offset + length;
  std::uint64_t hashed = 0;
  for (std::uint64_t at = offset; at < end;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, end - at));
    std::string copy;
    std::string_view piece = view_content(body, at, want);
    if (piece.empty()) {
      std::string error;
      copy = read_content(body, at, want, &error);
      if (copy.empty()) {
        Json e = Json::object();
        e["error"] = error.empty() ? "the body ended early" : error;
        s_.rec().event("response_failed", std::move(e));
        s_.conn().reset(CloseReason::server);
        co_return false;
      }
      piece = copy;
    }
    if (digest && hashed < kDigestLimit) {
      digest->update(piece);
      hashed += piece.size();
    }
    if (!co_await write(piece, record)) co_return false;
    at += piece.size();
  }
  co_return true;
}

Task<void> HttpFake::serve(Session& s) {
  HttpSession session(*this, s);
  co_await session.run();
}

std::unique_ptr<Fake> create(Server& server, const Cfg& cfg) {
  const ServerConfig& sc = server.config();
  ConfigContext context;
  if (sc.scenario) {
    context.scenario_file = sc.scenario->file;
    context.seed = sc.scenario->seed;
  }
  if (sc.tls.mode == TlsMode::starttls)
    cfg["tls"].error("http has no STARTTLS: use tls: implicit (HTTPS) or none");
  Config config = parse_config(cfg, context);
  auto bodies = resolve_bodies(server.rules().rules(), context, cfg.errors());
  return std::make_unique<HttpFake>(server, std::move(config), std::move(bodies),
                                    std::move(context));
}

}  // namespace

FakeFactory factory() {
  FakeFactory f;
  f.protocol = "http";
  f.transport = Transport::stream;
  f.rules.keys = rule_keys();
  f.schema = http_schema_fragment();
  f.contract_greeting = "";  // the client speaks first
  f.create = create;
  return f;
}

}  // namespace protofarm::http
