#include "fakes/nntp/article_store.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "fakes/common/bytes.hpp"

namespace protofarm::nntp {

namespace {

// The words generated bodies are made of.
constexpr std::array<const char*, 32> kWords = {
    "news",   "reader", "server",  "article",  "group",    "thread",    "reply",  "post",
    "feed",   "spool",  "header",  "body",     "overview", "range",     "number", "message",
    "client", "test",   "fake",    "scripted", "network",  "line",      "dot",    "stuffing",
    "usenet", "peer",   "history", "expire",   "batch",    "moderator", "digest", "archive"};

std::string hex16(std::uint64_t v) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// A generated body: 1 to 6 lines of words; one article in 16 also has a line that starts with a
// dot, so that clients see dot-stuffing on the wire.
std::string generated_body(std::uint64_t h) {
  std::string body;
  std::uint64_t x = h;
  const std::uint64_t lines = 1 + (h >> 16) % 6;
  for (std::uint64_t i = 0; i < lines; ++i) {
    x = splitmix64(x);
    const std::uint64_t words = 3 + x % 8;
    for (std::uint64_t w = 0; w < words; ++w) {
      if (w > 0) body += ' ';
      body += kWords[(x >> (4 + w * 5)) % kWords.size()];
    }
    body += "\r\n";
  }
  if ((h >> 24) % 16 == 0) body += ".signature line that starts with a dot\r\n";
  return body;
}

}  // namespace

std::string StoredArticle::xref() const {
  std::string out(kPathHost);
  for (const auto& [group, number] : placements) out += " " + group + ":" + std::to_string(number);
  return out;
}

std::uint64_t Group::low() const {
  std::uint64_t low = 0;
  if (!articles.empty()) low = articles.begin()->first;
  if (generate.count > 0 && (low == 0 || generate.first < low)) low = generate.first;
  return low == 0 ? 1 : low;
}

std::uint64_t Group::high() const {
  std::uint64_t high = articles.empty() ? 0 : articles.rbegin()->first;
  if (generate.count > 0) high = std::max(high, generate.last());
  return high;
}

Group& ArticleStore::add_group(const std::string& name) {
  auto [it, fresh] = groups_.try_emplace(name);
  if (fresh) {
    it->second.name = name;
    it->second.created = clock_;
  }
  return it->second;
}

Group* ArticleStore::find(std::string_view name) {
  const auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

const Group* ArticleStore::find(std::string_view name) const {
  const auto it = groups_.find(name);
  return it == groups_.end() ? nullptr : &it->second;
}

std::string ArticleStore::place(Group& group, std::uint64_t number, Article article,
                                std::string origin) {
  if (group.articles.count(number))
    return "article number " + std::to_string(number) + " is used twice in " + group.name;
  std::string id(article.value("Message-ID"));
  if (id.empty()) {
    id = generated_message_id(group, number);
    article.add("Message-ID", id);
  }
  std::shared_ptr<StoredArticle> stored;
  if (const auto it = by_id_.find(id); it != by_id_.end()) {
    // The same Message-ID again: a cross-post, the one article in another group.
    if (it->second->article.render() != article.render())
      return "Message-ID " + id + " names another article already (" +
             it->second->placements.front().first + ":" +
             std::to_string(it->second->placements.front().second) +
             "); a cross-posted article has the same headers and body in each group";
    stored = it->second;
  } else {
    stored = std::make_shared<StoredArticle>();
    stored->arrived = parse_article_date(article.value("Date")).value_or(group.created);
    stored->message_id = id;
    stored->article = std::move(article);
    stored->origin = std::move(origin);
    by_id_.emplace(id, stored);
  }
  stored->placements.emplace_back(group.name, number);
  group.articles.emplace(number, stored);
  if (group.generate.covers(number)) ++group.shadowed;
  return {};
}

void ArticleStore::set_generate(Group& group, Generate generate) {
  group.generate = generate;
  group.shadowed = 0;
  for (const auto& [number, a] : group.articles)
    if (generate.covers(number)) ++group.shadowed;
}

ArticlePtr ArticleStore::article(const Group& group, std::uint64_t number) const {
  if (const auto it = group.articles.find(number); it != group.articles.end()) return it->second;
  if (group.generate.covers(number)) return generated(group, number);
  return nullptr;
}

std::optional<std::uint64_t> ArticleStore::next_at_or_after(const Group& group,
                                                            std::uint64_t n) const {
  std::optional<std::uint64_t> best;
  if (const auto it = group.articles.lower_bound(n); it != group.articles.end()) best = it->first;
  const Generate& g = group.generate;
  if (g.count > 0 && n <= g.last()) {
    const std::uint64_t candidate = std::max(n, g.first);
    if (!best || candidate < *best) best = candidate;
  }
  return best;
}

std::optional<std::uint64_t> ArticleStore::prev_at_or_before(const Group& group,
                                                             std::uint64_t n) const {
  std::optional<std::uint64_t> best;
  if (auto it = group.articles.upper_bound(n); it != group.articles.begin()) best = (--it)->first;
  const Generate& g = group.generate;
  if (g.count > 0 && n >= g.first) {
    const std::uint64_t candidate = std::min(n, g.last());
    if (!best || candidate > *best) best = candidate;
  }
  return best;
}

ArticlePtr ArticleStore::by_message_id(std::string_view id) const {
  if (const auto it = by_id_.find(std::string(id)); it != by_id_.end()) return it->second;
  return generated_by_id(id);
}

ArticlePtr ArticleStore::add_posted(Article article, std::string message_id,
                                    const std::vector<Group*>& groups, TimePoint arrived,
                                    std::string origin) {
  auto stored = std::make_shared<StoredArticle>();
  stored->message_id = std::move(message_id);
  stored->arrived = arrived;
  stored->origin = std::move(origin);
  for (Group* g : groups) stored->placements.emplace_back(g->name, g->high() + 1);
  // As INN does: the Xref header is the server's, whatever the poster wrote.
  article.remove("Xref");
  article.add("Xref", stored->xref());
  stored->article = std::move(article);
  for (std::size_t i = 0; i < groups.size(); ++i)
    groups[i]->articles.emplace(stored->placements[i].second, stored);
  by_id_.emplace(stored->message_id, stored);
  return stored;
}

std::uint64_t ArticleStore::article_hash(const Group& group, std::uint64_t number) const {
  return splitmix64(fnv1a(group.name, splitmix64(seed_)) ^ number);
}

std::string ArticleStore::generated_message_id(const Group& group, std::uint64_t number) const {
  return "<" + std::to_string(number) + "." + hex16(article_hash(group, number)) + "@" +
         group.name + ">";
}

TimePoint ArticleStore::generated_time(const Group& group, std::uint64_t number) const {
  // One article a minute, the last one at the scenario's clock.
  const std::uint64_t before = group.generate.last() - number;
  return clock_ - std::chrono::minutes(static_cast<std::int64_t>(before));
}

std::optional<std::uint64_t> ArticleStore::first_generated_since(const Group& group,
                                                                 TimePoint since) const {
  const Generate& g = group.generate;
  if (g.count == 0 || since > clock_) return std::nullopt;
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(clock_ - since).count();
  const auto back = static_cast<std::uint64_t>(minutes);
  return back >= g.count - 1 ? g.first : g.last() - back;
}

std::shared_ptr<StoredArticle> ArticleStore::generated(const Group& group,
                                                       std::uint64_t number) const {
  const std::uint64_t h = article_hash(group, number);
  auto s = std::make_shared<StoredArticle>();
  s->message_id = generated_message_id(group, number);
  s->arrived = generated_time(group, number);
  s->origin = "generated";
  s->placements.emplace_back(group.name, number);
  Article& a = s->article;
  const std::string poster = std::to_string(h % 97);
  a.add("Path", std::string(kPathHost) + "!not-for-mail");
  a.add("From", "Poster " + poster + " <poster" + poster + "@example.test>");
  a.add("Newsgroups", group.name);
  // One article in three answers one of the (up to) three before it: threads for readers.
  const std::uint64_t earlier = number - group.generate.first;
  const bool answers = earlier > 0 && (h >> 8) % 3 == 0;
  const std::uint64_t parent =
      answers ? number - 1 - (h >> 12) % std::min<std::uint64_t>(3, earlier) : 0;
  a.add("Subject", answers ? "Re: Generated article " + std::to_string(parent)
                           : "Generated article " + std::to_string(number));
  a.add("Date", article_date(s->arrived));
  a.add("Message-ID", s->message_id);
  if (answers) a.add("References", generated_message_id(group, parent));
  a.add("Xref", s->xref());
  a.body = generated_body(h);
  return s;
}

ArticlePtr ArticleStore::generated_by_id(std::string_view id) const {
  // "<NUMBER.HASH@GROUP>", as generated_message_id() writes it.
  if (id.size() < 5 || id.front() != '<' || id.back() != '>') return nullptr;
  const std::string_view inner = id.substr(1, id.size() - 2);
  const std::size_t at = inner.find('@');
  const std::size_t dot = inner.find('.');
  if (at == std::string_view::npos || dot == std::string_view::npos || dot > at) return nullptr;
  const auto number = parse_article_number(inner.substr(0, dot));
  const Group* group = find(inner.substr(at + 1));
  if (!number || !group || !group->generate.covers(*number) || group->articles.count(*number))
    return nullptr;
  if (generated_message_id(*group, *number) != id) return nullptr;
  return generated(*group, *number);
}

void ArticleStore::mark_start() {
  start_.clear();
  for (const auto& [name, group] : groups_) start_[name] = Start{group.articles, group.shadowed};
  start_by_id_ = by_id_;
}

void ArticleStore::reset() {
  for (auto& [name, group] : groups_) {
    const auto it = start_.find(name);
    if (it == start_.end()) continue;
    group.articles = it->second.articles;
    group.shadowed = it->second.shadowed;
  }
  by_id_ = start_by_id_;
}

}  // namespace protofarm::nntp
