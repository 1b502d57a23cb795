#include "controller/control/hub.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace protofarm::control {

namespace {

std::string event_line(const SessionSummary& s, Json event) {
  Json line = Json::object();
  line["server"] = s.server;
  line["session"] = s.session;
  for (auto& [k, v] : event.items()) line[k] = std::move(v);
  return line.dump(-1, ' ', false, Json::error_handler_t::replace);
}

double ms_between(std::chrono::system_clock::time_point a,
                  std::chrono::system_clock::time_point b) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(b - a).count()) /
         1000.0;
}

}  // namespace

Json Hub::to_json(const SessionSummary& s) {
  Json j = Json::object();
  j["seq"] = s.seq;
  j["server"] = s.server;
  j["session"] = s.session;
  j["protocol"] = s.protocol;
  j["peer"] = s.peer;
  j["local"] = s.local;
  j["started"] = iso8601(s.started);
  j["ended"] = s.close ? Json(iso8601(s.ended)) : Json(nullptr);
  j["close"] = s.close ? Json(to_string(*s.close)) : Json(nullptr);
  j["open"] = !s.close.has_value();
  j["bytes_from_client"] = s.bytes_from_client;
  j["bytes_from_server"] = s.bytes_from_server;
  j["events"] = s.events;
  return j;
}

std::shared_ptr<SessionSummary> Hub::opened(SessionSummary summary) {
  summary.seq = next_seq_++;
  auto s = std::make_shared<SessionSummary>(std::move(summary));
  summaries_.push_back(s);
  if (summaries_.size() > kMaxSummaries) summaries_.pop_front();
  ++totals_[s->server].open;
  open_[s->seq] = s;
  if (!recording_) {
    Json e = Json::object();
    e["t_ms"] = 0.0;
    e["event"] = "open";
    e["peer"] = s->peer;
    e["local"] = s->local;
    e["protocol"] = s->protocol;
    push(s->server, event_line(*s, std::move(e)));
  }
  return s;
}

void Hub::closed(SessionSummary& summary) {
  Totals& t = totals_[summary.server];
  if (t.open > 0) --t.open;
  t.closed_from_client += summary.bytes_from_client;
  t.closed_from_server += summary.bytes_from_server;
  open_.erase(summary.seq);
  if (!recording_) {
    Json e = Json::object();
    e["t_ms"] = std::round(ms_between(summary.started, summary.ended) * 1000.0) / 1000.0;
    e["event"] = "close";
    e["close"] = to_string(summary.close.value_or(CloseReason::server));
    push(summary.server, event_line(summary, std::move(e)));
  }
}

void Hub::line(const SessionSummary& summary, std::string_view line) { push(summary.server, line); }

void Hub::fault(const SessionSummary& summary, std::string_view fault) {
  ++totals_[summary.server].faults[std::string(fault)];
}

std::uint32_t Hub::server_index(const std::string& server) {
  // Sessions of one server come in runs: the last one is the likely one.
  if (last_server_index_ < servers_.size() && servers_[last_server_index_] == server)
    return last_server_index_;
  auto it = std::find(servers_.begin(), servers_.end(), server);
  if (it == servers_.end()) it = servers_.insert(servers_.end(), server);
  last_server_index_ = static_cast<std::uint32_t>(it - servers_.begin());
  return last_server_index_;
}

void Hub::push(const std::string& server, std::string_view line) {
  const std::uint32_t index = server_index(server);
  if (chunks_.empty() || chunks_.back().text.size() + line.size() > kChunkBytes) {
    // The chunk dropped last is used again: its memory is paged in already (a new one would
    // be mapped afresh and fault in page by page).
    chunks_.push_back(std::move(spare_));
    spare_ = Chunk();
    chunks_.back().text.reserve(std::max(kChunkBytes, line.size()));
  }
  Chunk& chunk = chunks_.back();
  chunk.events.push_back(Event{next_id_++, static_cast<std::uint32_t>(chunk.text.size()),
                               static_cast<std::uint32_t>(line.size()), index});
  chunk.text += line;
  event_bytes_ += line.size() + sizeof(Event);
  while (event_bytes_ > kMaxEventBytes && chunks_.size() > 1) {
    Chunk& oldest = chunks_.front();
    event_bytes_ -= oldest.text.size() + oldest.events.size() * sizeof(Event);
    oldest.text.clear();
    oldest.events.clear();
    if (oldest.text.capacity() <= 2 * kChunkBytes) spare_ = std::move(oldest);
    chunks_.pop_front();
  }
  if (!waiters_.empty()) wake();
}

// Leading edge: the first event after a quiet spell goes out at once (posted, so the rest of
// what the loop is handling joins it); later ones wait for the interval to pass.
void Hub::wake() {
  if (wake_armed_ || !wake_timer_) return;
  wake_armed_ = true;
  const auto now = std::chrono::steady_clock::now();
  const auto at = std::max(now, last_wake_ + kWakeInterval);
  last_wake_ = at;
  wake_timer_->expires_at(at);
  wake_timer_->async_wait([this](const error_code&) {
    wake_armed_ = false;
    const auto waiters = std::exchange(waiters_, {});
    for (asio::steady_timer* t : waiters) t->cancel();
  });
}

Hub::Batch Hub::take(std::uint64_t& after_id, const std::string& server,
                     std::size_t max_bytes) const {
  if (chunks_.empty() || after_id + 1 >= next_id_) return {};
  const std::uint64_t first = chunks_.front().events.front().id;
  Taken& last = last_taken_;
  if (last.batch.data && last.after == after_id && last.first_held == first &&
      last.max_bytes == max_bytes && last.server == server) {
    after_id = last.until;
    return last.batch;
  }
  last = Taken{after_id, 0, first, server, max_bytes, {}};
  Batch batch;
  auto text = std::make_shared<std::string>();
  if (after_id + 1 < first) {
    batch.missed = first - after_id - 1;
    after_id = first - 1;
  }
  std::optional<std::uint32_t> only;
  if (!server.empty()) {
    const auto it = std::find(servers_.begin(), servers_.end(), server);
    if (it == servers_.end()) {  // none of its events are held
      after_id = next_id_ - 1;
      last.until = after_id;
      return batch;
    }
    only = static_cast<std::uint32_t>(it - servers_.begin());
  }
  // The chunk that holds after_id + 1: chunks are in id order.
  std::size_t c = 0;
  while (c + 1 < chunks_.size() && chunks_[c + 1].events.front().id <= after_id + 1) ++c;
  for (bool full = false; c < chunks_.size() && !full; ++c) {
    const Chunk& chunk = chunks_[c];
    const std::uint64_t first_id = chunk.events.front().id;
    const std::size_t start = after_id + 1 > first_id ? after_id + 1 - first_id : 0;
    for (std::size_t i = start; i < chunk.events.size(); ++i) {
      const Event& e = chunk.events[i];
      after_id = e.id;
      if (only && e.server != *only) continue;
      *text += "id: ";
      *text += std::to_string(e.id);
      *text += "\ndata: ";
      text->append(chunk.text, e.offset, e.size);
      *text += "\n\n";
      if (text->size() >= max_bytes) {
        full = true;
        break;
      }
    }
  }
  if (!text->empty()) batch.data = std::move(text);
  last.until = after_id;
  last.batch = batch;
  return batch;
}

std::vector<std::shared_ptr<const SessionSummary>> Hub::sessions(
    const std::string& server, std::uint64_t since_seq,
    std::optional<std::chrono::system_clock::time_point> since_time, std::size_t limit) const {
  std::vector<std::shared_ptr<const SessionSummary>> out;
  for (auto it = summaries_.rbegin(); it != summaries_.rend() && out.size() < limit; ++it) {
    const SessionSummary& s = **it;
    if (s.seq <= since_seq) break;  // oldest first from here on: all are older
    if (!server.empty() && s.server != server) continue;
    if (since_time && s.started < *since_time) continue;
    out.push_back(*it);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

const SessionSummary* Hub::find(const std::string& server, std::uint64_t session) const {
  for (auto it = summaries_.rbegin(); it != summaries_.rend(); ++it)
    if ((*it)->session == session && (*it)->server == server) return it->get();
  return nullptr;
}

std::uint64_t Hub::open_sessions(const std::string& server) const {
  const auto it = totals_.find(server);
  return it == totals_.end() ? 0 : it->second.open;
}

const std::map<std::string, std::uint64_t>& Hub::faults(const std::string& server) const {
  static const std::map<std::string, std::uint64_t> kNone;
  const auto it = totals_.find(server);
  return it == totals_.end() ? kNone : it->second.faults;
}

std::pair<std::uint64_t, std::uint64_t> Hub::bytes(const std::string& server) const {
  std::pair<std::uint64_t, std::uint64_t> out{0, 0};
  if (const auto it = totals_.find(server); it != totals_.end())
    out = {it->second.closed_from_client, it->second.closed_from_server};
  for (const auto& [seq, s] : open_) {
    if (s->server != server) continue;
    out.first += s->bytes_from_client;
    out.second += s->bytes_from_server;
  }
  return out;
}

}  // namespace protofarm::control
