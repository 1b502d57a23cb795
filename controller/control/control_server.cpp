#include "controller/control/control_server.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cctype>
#include <charconv>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "controller/control/hub.hpp"
#include "controller/farm.hpp"
#include "controller/verify.hpp"
#include "fakes/common/bytes.hpp"
#include "fakes/common/civil_time.hpp"

namespace protofarm {
std::string_view control_page_html();  // controller/control/page.html, built in
}

namespace protofarm::control {

namespace http = boost::beast::http;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kIdleTimeout = std::chrono::seconds(60);
constexpr auto kWriteTimeout = std::chrono::seconds(30);
constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr std::size_t kMaxStates = 10'000;  // what PUT /api/states may grow the states to
constexpr std::size_t kSseBatch = std::size_t{1024} * 1024;

// The parts of a request target: the path's segments (decoded) and the query's parameters.
struct Target {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;

  std::string param(const std::string& key) const {
    const auto it = query.find(key);
    return it == query.end() ? std::string() : it->second;
  }
};

Target parse_target(std::string_view target) {
  Target t;
  const auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    while (!query.empty()) {
      const auto amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      const auto eq = pair.find('=');
      if (!pair.empty())
        t.query[percent_decode(pair.substr(0, eq))] =
            eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
      if (amp == std::string_view::npos) break;
      query.remove_prefix(amp + 1);
    }
  }
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    // A '+' in a path is itself (percent_decode reads the query's form, where it is a space).
    t.segments.push_back(percent_decode_lenient(path.substr(0, slash)));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return t;
}

HttpResponse make_response(const HttpRequest& req, http::status status, std::string body,
                           std::string_view content_type) {
  HttpResponse res{status, req.version()};
  res.set(http::field::server, "protofarm");
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

HttpResponse json_response(const HttpRequest& req, http::status status, const Json& body) {
  return make_response(req, status, body.dump(2, ' ', false, Json::error_handler_t::replace) + "\n",
                       "application/json");
}

HttpResponse error_response(const HttpRequest& req, http::status status, std::string message) {
  Json body = Json::object();
  body["error"] = std::move(message);
  return json_response(req, status, body);
}

// A scenario's errors as the API gives them: the first message, the path of the offending key,
// and every error with its place in the request body.
Json config_errors_json(const ConfigErrors& errors) {
  Json list = Json::array();
  for (const ConfigError& e : errors.reported()) {
    Json item = Json::object();
    item["message"] = e.message;
    // Messages start with the key's path when they have one: "rules[0].on: ...".
    const auto colon = e.message.find(": ");
    item["path"] = colon != std::string::npos && e.message.rfind("rules", 0) == 0
                       ? Json(e.message.substr(0, colon))
                       : Json(nullptr);
    item["line"] = e.line;
    item["column"] = e.column;
    list.push_back(std::move(item));
  }
  Json body = Json::object();
  body["error"] = list.empty() ? Json("invalid rules") : list.front()["message"];
  body["path"] = list.empty() ? Json(nullptr) : list.front()["path"];
  body["errors"] = std::move(list);
  return body;
}

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::uint64_t> parse_number(const std::string& text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

std::optional<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Closes the socket when a deadline passes; the operation waiting on it then fails.
class Watchdog {
 public:
  Watchdog(asio::io_context& io, tcp::socket& socket) : timer_(io), socket_(socket) {}
  void arm(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([&socket = socket_](const error_code& ec) {
      if (ec) return;  // disarmed, or the connection is gone
      error_code ignored;
      socket.close(ignored);
    });
  }
  void disarm() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
  tcp::socket& socket_;
};

}  // namespace

bool is_loopback(const std::string& host) {
  if (host == "localhost") return true;
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  return !ec && address.is_loopback();
}

bool token_matches(std::string_view authorization, const std::string& token) {
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view given;
  if (authorization.size() > kScheme.size() &&
      iequals(authorization.substr(0, kScheme.size()), kScheme))
    given = authorization.substr(kScheme.size());
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), b);
  return CRYPTO_memcmp(a, b, sizeof a) == 0 && !given.empty();
}

std::string percent_decode(std::string_view text) {
  std::string plus_as_space(text);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return percent_decode_lenient(plus_as_space);
}

ControlServer::ControlServer(asio::io_context& io, Farm& farm, Hub& hub)
    : io_(io), farm_(farm), hub_(hub) {}

ControlServer::~ControlServer() { stop(); }

void ControlServer::bind(const ListenAddress& address) {
  error_code ec;
  const std::string host = address.host == "localhost" ? "127.0.0.1" : address.host;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("cannot listen on '" + address.host + "': not an IP address");
  tcp::endpoint endpoint(ip, address.port);
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(address.port) +
                             ": " + ec.message());
  const tcp::endpoint bound = acceptor_->local_endpoint();
  host_ = bound.address().to_string();
  port_ = bound.port();
}

std::string ControlServer::url() const {
  const bool v6 = host_.find(':') != std::string::npos;
  return "http://" + (v6 ? "[" + host_ + "]" : host_) + ":" + std::to_string(port_);
}

void ControlServer::start() {
  if (!acceptor_) return;
  asio::co_spawn(io_, accept_loop(), [](const std::exception_ptr& e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::cerr << "protofarm: the control API stopped accepting: " << x.what() << "\n";
    }
  });
}

void ControlServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ec;
  if (acceptor_) acceptor_->close(ec);
  for (tcp::socket* s : connections_) s->close(ec);
  hub_.cancel_waiters();
}

Task<void> ControlServer::accept_loop() {
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_->async_accept(use_tuple);
    if (ec) {
      if (stopped_ || ec == asio::error::operation_aborted) co_return;
      continue;  // EMFILE and the like: the next accept may work
    }
    asio::co_spawn(io_, serve(std::move(socket)), [](const std::exception_ptr& e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::cerr << "protofarm: a control API connection failed: " << x.what() << "\n";
      }
    });
  }
}

Task<void> ControlServer::serve(tcp::socket socket) {
  connections_.insert(&socket);
  struct Forget {
    std::set<tcp::socket*>& set;
    tcp::socket* socket;
    ~Forget() { set.erase(socket); }
  } forget{connections_, &socket};
  Watchdog watchdog(io_, socket);
  boost::beast::flat_buffer buffer;
  while (!stopped_) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kMaxHead);
    parser.body_limit(kMaxBody);
    watchdog.arm(kIdleTimeout);
    auto [ec, n] = co_await http::async_read(socket, buffer, parser, use_tuple);
    watchdog.disarm();
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      HttpRequest head;
      head.version(11);
      auto res = error_response(head,
                                ec == http::error::body_limit
                                    ? http::status::payload_too_large
                                    : http::status::request_header_fields_too_large,
                                ec == http::error::body_limit ? "the request body is over 1 MiB"
                                                              : "the request head is over 16 KiB");
      res.keep_alive(false);
      watchdog.arm(kWriteTimeout);
      co_await http::async_write(socket, res, use_tuple);
      break;
    }
    if (ec) break;
    HttpRequest request = parser.release();
    if (request.method() == http::verb::get &&
        parse_target(request.target()).segments == std::vector<std::string>{"api", "events"}) {
      const std::string server = parse_target(request.target()).param("server");
      if (server.empty() || farm_.find_served(server)) {
        co_await stream_events(socket, request);
        break;
      }
    }
    std::function<void()> after;
    HttpResponse response = handle(request, after);
    const bool keep = response.keep_alive();
    watchdog.arm(kWriteTimeout);
    auto [wec, wn] = co_await http::async_write(socket, response, use_tuple);
    watchdog.disarm();
    if (after) after();
    if (wec || !keep) break;
  }
  error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

Task<void> ControlServer::stream_events(tcp::socket& socket, const HttpRequest& request) {
  const Target target = parse_target(request.target());
  const std::string server = target.param("server");
  std::uint64_t cursor = hub_.last_event_id();
  std::string resume(request["Last-Event-ID"]);
  if (resume.empty()) resume = target.param("last_event_id");
  if (!resume.empty()) {
    if (auto n = parse_number(resume)) cursor = std::min(*n, hub_.last_event_id());
  }
  // A client that goes away is noticed by a read of its own (it sends nothing once its request
  // is in), not only when a write fails: the state outlives this frame for that read's handler.
  struct State {
    explicit State(asio::io_context& io) : wait(io) {}
    asio::steady_timer wait;
    std::array<char, 512> scratch{};
    bool gone = false;  // the client closed its end
    bool done = false;  // this stream is over: the socket must not be touched
  };
  const auto state = std::make_shared<State>(io_);
  std::function<void()> watch_peer = [state, &socket, &watch_peer] {
    socket.async_read_some(asio::buffer(state->scratch), [state, &socket, &watch_peer](
                                                             const error_code& ec, std::size_t) {
      if (state->done) return;
      if (ec) {
        state->gone = true;
        state->wait.cancel();
        return;
      }
      watch_peer();  // the client sent something after all: ignore it, watch on
    });
  };
  watch_peer();
  ++hub_.sse_clients();
  struct Leave {
    Hub& hub;
    State& state;
    ~Leave() {
      state.done = true;
      hub.remove_waiter(&state.wait);
      --hub.sse_clients();
    }
  } leave{hub_, *state};
  Watchdog watchdog(io_, socket);

  // What goes out next: `out` (the head, a gap, a keep-alive), then the shared batch.
  std::string out =
      "HTTP/1.1 200 OK\r\nServer: protofarm\r\nContent-Type: text/event-stream\r\n"
      "Cache-Control: no-store\r\nConnection: close\r\nX-Accel-Buffering: no\r\n\r\n"
      "retry: 1000\n\n";
  std::shared_ptr<const std::string> batch;
  while (!stopped_ && !state->gone) {
    if (out.empty() && !batch) {
      Hub::Batch taken = hub_.take(cursor, server, kSseBatch);
      if (taken.missed)
        out = "event: gap\ndata: {\"missed\":" + std::to_string(taken.missed) + "}\n\n";
      batch = std::move(taken.data);
    }
    if (out.empty() && !batch) {
      state->wait.expires_after(kKeepAlive);
      hub_.add_waiter(&state->wait);
      auto [ec] = co_await state->wait.async_wait(use_tuple);
      hub_.remove_waiter(&state->wait);
      if (stopped_ || state->gone) break;
      if (!ec) out = ": keep-alive\n\n";
      continue;
    }
    const std::array<asio::const_buffer, 2> buffers{
        asio::buffer(out), batch ? asio::buffer(*batch) : asio::const_buffer()};
    watchdog.arm(kWriteTimeout);
    auto [ec, n] = co_await asio::async_write(socket, buffers, use_tuple);
    watchdog.disarm();
    if (ec) break;
    out.clear();
    batch.reset();
  }
}

HttpResponse ControlServer::handle(const HttpRequest& req, std::function<void()>& after) {
  const Target target = parse_target(req.target());
  const auto& seg = target.segments;
  const http::verb method = req.method();
  const bool mutating = method != http::verb::get && method != http::verb::head;

  const auto allow = [&](std::initializer_list<http::verb> verbs) {
    for (const auto v : verbs)
      if (v == method) return true;
    return false;
  };
  const auto not_allowed = [&](std::string_view verbs) {
    auto res = error_response(
        req, http::status::method_not_allowed,
        std::string(req.method_string()) + " is not allowed here; use " + std::string(verbs));
    res.set(http::field::allow, verbs);
    return res;
  };
  if (mutating && !farm_.options().control_token.empty() &&
      !token_matches(req[http::field::authorization], farm_.options().control_token)) {
    auto res = error_response(req, http::status::unauthorized,
                              "this call needs the control token: Authorization: Bearer TOKEN");
    res.set(http::field::www_authenticate, "Bearer");
    return res;
  }

  // GET /
  if (seg.empty() || (seg.size() == 1 && seg[0] == "index.html")) {
    if (!allow({http::verb::get})) return not_allowed("GET");
    return make_response(req, http::status::ok, std::string(control_page_html()),
                         "text/html; charset=utf-8");
  }
  if (seg.size() == 1 && seg[0] == "healthz") {
    if (!allow({http::verb::get})) return not_allowed("GET");
    Json body = Json::object();
    body["status"] = farm_.stopping() ? "stopping" : "ok";
    return json_response(
        req, farm_.stopping() ? http::status::service_unavailable : http::status::ok, body);
  }
  if (seg.size() == 1 && seg[0] == "metrics") {
    if (!allow({http::verb::get})) return not_allowed("GET");
    std::string text;
    const auto served = farm_.served();
    const auto labels = [](const Server& s) {
      return "server=\"" + prometheus_label(s.name()) + "\",protocol=\"" +
             prometheus_label(s.config().protocol) + "\"";
    };
    text += "# HELP protofarm_sessions_total Sessions (connections; UDP peers) since the start.\n";
    text += "# TYPE protofarm_sessions_total counter\n";
    for (const auto& [s, entry] : served)
      text +=
          "protofarm_sessions_total{" + labels(*s) + "} " + std::to_string(s->sessions()) + "\n";
    text += "# HELP protofarm_sessions_open Sessions open now.\n";
    text += "# TYPE protofarm_sessions_open gauge\n";
    for (const auto& [s, entry] : served)
      text += "protofarm_sessions_open{" + labels(*s) + "} " +
              std::to_string(hub_.open_sessions(s->name())) + "\n";
    text += "# HELP protofarm_bytes_total Bytes recorded from clients and from the server.\n";
    text += "# TYPE protofarm_bytes_total counter\n";
    for (const auto& [s, entry] : served) {
      const auto [in, out] = hub_.bytes(s->name());
      text +=
          "protofarm_bytes_total{" + labels(*s) + ",from=\"client\"} " + std::to_string(in) + "\n";
      text +=
          "protofarm_bytes_total{" + labels(*s) + ",from=\"server\"} " + std::to_string(out) + "\n";
    }
    text += "# HELP protofarm_rule_hits_total How often each rule answered (since a reset).\n";
    text += "# TYPE protofarm_rule_hits_total counter\n";
    for (const auto& [s, entry] : served) {
      const auto& rules = s->rules().rules();
      for (std::size_t i = 0; i < rules.size(); ++i)
        text += "protofarm_rule_hits_total{server=\"" + prometheus_label(s->name()) + "\",rule=\"" +
                prometheus_label(rules[i].name) + "\"} " + std::to_string(s->rules().hits(i)) +
                "\n";
    }
    text += "# HELP protofarm_faults_total Faults fired, by kind.\n";
    text += "# TYPE protofarm_faults_total counter\n";
    for (const auto& [s, entry] : served)
      for (const auto& [fault, count] : hub_.faults(s->name()))
        text += "protofarm_faults_total{server=\"" + prometheus_label(s->name()) + "\",fault=\"" +
                prometheus_label(fault) + "\"} " + std::to_string(count) + "\n";
    text += "# HELP protofarm_events_total Transcript events recorded.\n";
    text += "# TYPE protofarm_events_total counter\n";
    text += "protofarm_events_total " + std::to_string(hub_.events_total()) + "\n";
    text += "# HELP protofarm_sse_clients Clients following /api/events.\n";
    text += "# TYPE protofarm_sse_clients gauge\n";
    text += "protofarm_sse_clients " + std::to_string(hub_.sse_clients()) + "\n";
    return make_response(req, http::status::ok, std::move(text),
                         "text/plain; version=0.0.4; charset=utf-8");
  }
  if (seg.empty() || seg[0] != "api")
    return error_response(req, http::status::not_found,
                          "no such path: " + std::string(req.target()));

  const auto server_json = [&](Server& s, const Json& entry) {
    Json j = Json::object();
    j["name"] = s.name();
    for (const auto& [k, v] : entry.items()) j[k] = v;
    if (s.config().scenario) j["scenario"] = s.config().scenario->name;
    j["sessions"] = s.sessions();
    j["open"] = hub_.open_sessions(s.name());
    Json rules = Json::array();
    const auto& list = s.rules().rules();
    for (std::size_t i = 0; i < list.size(); ++i) {
      Json r = Json::object();
      r["name"] = list[i].name;
      r["on"] = list[i].on.empty() ? Json(nullptr) : Json(list[i].on);
      r["hits"] = s.rules().hits(i);
      rules.push_back(std::move(r));
    }
    j["rules"] = std::move(rules);
    return j;
  };
  const auto unknown_server = [&](const std::string& name) {
    std::vector<std::string> names;
    for (const auto& [s, e] : farm_.served()) names.push_back(s->name());
    return error_response(req, http::status::not_found,
                          "no server named '" + name + "'" + did_you_mean(name, names));
  };

  // /api/servers[/NAME[/rules]]
  if (seg.size() >= 2 && seg[1] == "servers") {
    if (seg.size() == 2) {
      if (!allow({http::verb::get})) return not_allowed("GET");
      Json list = Json::array();
      for (const auto& [s, entry] : farm_.served()) list.push_back(server_json(*s, entry));
      Json body = Json::object();
      body["servers"] = std::move(list);
      return json_response(req, http::status::ok, body);
    }
    Server* server = farm_.find_served(seg[2]);
    if (!server) return unknown_server(seg[2]);
    if (seg.size() == 3) {
      if (!allow({http::verb::get})) return not_allowed("GET");
      for (const auto& [s, entry] : farm_.served())
        if (s == server) return json_response(req, http::status::ok, server_json(*s, entry));
    }
    if (seg.size() == 4 && seg[3] == "rules") {
      if (method == http::verb::get) {
        for (const auto& [s, entry] : farm_.served())
          if (s == server) {
            Json body = Json::object();
            body["rules"] = server_json(*s, entry)["rules"];
            return json_response(req, http::status::ok, body);
          }
      }
      if (!allow({http::verb::put})) return not_allowed("GET, PUT");
      YAML::Node node;
      try {
        node = YAML::Load(req.body());
      } catch (const YAML::Exception& e) {
        return error_response(req, http::status::bad_request,
                              "the body is not JSON (or YAML): " + e.msg + " at line " +
                                  std::to_string(e.mark.line + 1) + ", column " +
                                  std::to_string(e.mark.column + 1));
      }
      if (node.IsMap() && node["rules"]) node = node["rules"];
      ConfigErrors errors("request body");
      if (!farm_.replace_rules(*server, node, errors))
        return json_response(req, http::status::bad_request, config_errors_json(errors));
      Json body = Json::object();
      body["server"] = server->name();
      body["rules"] = server->rules().rules().size();
      return json_response(req, http::status::ok, body);
    }
    return error_response(req, http::status::not_found,
                          "no such path: " + std::string(req.target()));
  }

  // /api/sessions[/SERVER/N]
  if (seg.size() >= 2 && seg[1] == "sessions") {
    if (!allow({http::verb::get})) return not_allowed("GET");
    if (seg.size() == 2) {
      const std::string server = target.param("server");
      if (!server.empty() && !farm_.find_served(server)) return unknown_server(server);
      std::uint64_t since_seq = 0;
      std::optional<std::chrono::system_clock::time_point> since_time;
      if (const std::string since = target.param("since"); !since.empty()) {
        if (auto n = parse_number(since)) {
          since_seq = *n;
        } else if (auto t = parse_rfc3339(since, true)) {
          since_time = *t;
        } else {
          return error_response(req, http::status::bad_request,
                                "since: expected a session seq number or a time like "
                                "2026-11-27T21:40:00Z, not '" +
                                    since + "'");
        }
      }
      std::size_t limit = 1000;
      if (const std::string l = target.param("limit"); !l.empty()) {
        const auto n = parse_number(l);
        if (!n || *n == 0)
          return error_response(req, http::status::bad_request,
                                "limit: expected a whole number above 0, not '" + l + "'");
        limit = static_cast<std::size_t>(*n);
      }
      Json list = Json::array();
      for (const auto& s : hub_.sessions(server, since_seq, since_time, limit))
        list.push_back(Hub::to_json(*s));
      Json body = Json::object();
      body["sessions"] = std::move(list);
      body["last_seq"] = hub_.last_seq();
      return json_response(req, http::status::ok, body);
    }
    if (seg.size() == 4) {
      if (!farm_.find_served(seg[2])) return unknown_server(seg[2]);
      const auto n = parse_number(seg[3]);
      if (!n) return error_response(req, http::status::not_found, "no session '" + seg[3] + "'");
      const std::string label = "session " + seg[2] + "/" + seg[3];
      if (!farm_.sink().enabled())
        return error_response(req, http::status::not_found,
                              label + " was not recorded: the farm runs without --transcripts");
      if (auto live = farm_.sink().live_document(seg[2], *n))
        return make_response(req, http::status::ok, std::move(*live), "application/json");
      const fs::path path =
          farm_.sink().dir() / "sessions" / seg[2] / (std::to_string(*n) + ".json");
      if (!fs::exists(path)) farm_.sink().sync();  // finished, perhaps not written yet
      if (auto text = read_file(path))
        return make_response(req, http::status::ok, std::move(*text), "application/json");
      return error_response(req, http::status::not_found, "no " + label);
    }
    return error_response(req, http::status::not_found,
                          "no such path: " + std::string(req.target()));
  }

  // /api/events: streamed by serve(); here only what is refused
  if (seg.size() == 2 && seg[1] == "events") {
    if (!allow({http::verb::get})) return not_allowed("GET");
    return unknown_server(target.param("server"));
  }

  // /api/states
  if (seg.size() == 2 && seg[1] == "states") {
    if (!allow({http::verb::get, http::verb::put})) return not_allowed("GET, PUT");
    const std::string wanted = target.param("scenario");
    const LoadedScenario* sc = nullptr;
    for (const auto& s : farm_.scenarios())
      if (s.context && (wanted.empty() || s.context->name == wanted)) {
        sc = &s;
        break;
      }
    if (!sc)
      return error_response(req, http::status::not_found, "no scenario named '" + wanted + "'");
    StateStore& states = *sc->context->states;
    if (method == http::verb::put) {
      Json body;
      try {
        body = Json::parse(req.body());
      } catch (const Json::parse_error& e) {
        return error_response(req, http::status::bad_request,
                              std::string("the body is not JSON: ") + e.what());
      }
      if (!body.is_object())
        return error_response(req, http::status::bad_request,
                              "expected a JSON object of state names and values");
      for (const auto& [k, v] : body.items())
        if (!v.is_string() && !v.is_number() && !v.is_boolean())
          return error_response(req, http::status::bad_request,
                                "state '" + k + "': expected a string, number or boolean");
      std::size_t names = states.all().size();
      for (const auto& [k, v] : body.items()) names += states.all().count(k) ? 0 : 1;
      if (names > kMaxStates)
        return error_response(req, http::status::conflict,
                              "more than " + std::to_string(kMaxStates) +
                                  " named states; POST /api/reset brings back the scenario's");
      for (const auto& [k, v] : body.items())
        states.set(k, v.is_string() ? v.get<std::string>() : v.dump());
    }
    Json body = Json::object();
    body["scenario"] = sc->context->name;
    Json values = Json::object();
    for (const auto& [k, v] : states.all()) values[k] = v;
    body["states"] = std::move(values);
    return json_response(req, http::status::ok, body);
  }

  // /api/reset
  if (seg.size() == 2 && seg[1] == "reset") {
    if (!allow({http::verb::post})) return not_allowed("POST");
    const std::string server = target.param("server");
    if (!server.empty() && !farm_.find_served(server)) return unknown_server(server);
    Json body = Json::object();
    body["reset"] = farm_.reset(server);
    return json_response(req, http::status::ok, body);
  }

  // /api/verify
  if (seg.size() == 2 && seg[1] == "verify") {
    if (!allow({http::verb::post})) return not_allowed("POST");
    if (!farm_.sink().enabled())
      return error_response(req, http::status::conflict,
                            "nothing to verify: the farm runs without --transcripts");
    farm_.sink().sync();  // every finished session's document is on disk
    const bool junit = target.param("format") == "junit";
    Json scenarios = Json::array();
    Json all_checks = Json::array();  // every check of every server, flat
    bool passed = true, any = false;
    std::string report_text, junit_text;
    for (const auto& sc : farm_.scenarios()) {
      if (sc.expectations.empty()) continue;
      any = true;
      VerifyOptions options;
      options.scenario = sc.file;
      options.transcripts = farm_.sink().dir().string();
      const VerifyOutcome outcome = verify_transcripts(options);
      if (!outcome.error.empty()) return error_response(req, http::status::conflict, outcome.error);
      const std::string text = render_report(outcome.report);
      if (junit && junit_text.empty()) junit_text = render_junit(outcome.report);
      report_text += text;
      passed = passed && outcome.status == 0;
      Json servers = Json::array();
      for (const ServerResult& r : outcome.report.servers) {
        Json checks = Json::array();
        for (const CheckResult& c : r.checks) {
          Json check = Json::object();
          check["check"] = check_label(c);
          check["ok"] = c.ok;
          check["summary"] = c.summary;
          check["detail"] = c.detail;
          Json flat = check;
          flat["server"] = r.server;
          all_checks.push_back(std::move(flat));
          checks.push_back(std::move(check));
        }
        Json server = Json::object();
        server["server"] = r.server;
        server["ok"] = r.ok();
        server["sessions"] = r.sessions;
        server["checks"] = std::move(checks);
        servers.push_back(std::move(server));
      }
      Json entry = Json::object();
      entry["file"] = sc.file;
      entry["passed"] = outcome.status == 0;
      entry["servers"] = std::move(servers);
      scenarios.push_back(std::move(entry));
    }
    if (!any)
      return error_response(req, http::status::conflict,
                            "nothing to verify: no scenario has an expect: section");
    if (junit)
      return make_response(req, http::status::ok, std::move(junit_text),
                           "application/xml; charset=utf-8");
    Json body = Json::object();
    body["passed"] = passed;
    body["report"] = report_text;
    body["checks"] = std::move(all_checks);
    body["scenarios"] = std::move(scenarios);
    return json_response(req, http::status::ok, body);
  }

  // /api/stop
  if (seg.size() == 2 && seg[1] == "stop") {
    if (!allow({http::verb::post})) return not_allowed("POST");
    Json body = Json::object();
    body["stopping"] = true;
    auto res = json_response(req, http::status::accepted, body);
    res.keep_alive(false);
    after = [this] { farm_.stop(); };
    return res;
  }
  return error_response(req, http::status::not_found, "no such path: " + std::string(req.target()));
}

}  // namespace protofarm::control
