// The NNTP fake's news spool: the newsgroups of one server and their articles, for the whole run.
//
// The store belongs to the server's fake, so it outlives every session: an article posted (POST,
// IHAVE) is numbered in each of its groups and read by any later session of the same run. An
// article lives once however many groups it is in (a cross-post): its placements are its Xref.
//
// Articles come three ways. The scenario lists some (inline or from files), with the numbers it
// gives them. Posted articles take the next number after a group's high-water mark. And a group
// may `generate` a run of numbers, whose articles are never stored: each is computed from the
// seed, the group and its number when it is asked for (by number or by message-id), so a group
// of 100,000 generated articles costs no memory. A scenario article whose number falls in the
// generated run takes that number's place.
//
// Single-threaded, like the farm. Group pointers stay valid for the store's life.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "fakes/nntp/nntp_codec.hpp"

namespace protofarm::nntp {

// The server's name in Path and Xref headers (INN's pathhost).
inline constexpr std::string_view kPathHost = "protofarm";

struct StoredArticle {
  Article article;
  std::string message_id;
  TimePoint arrived;  // what NEWNEWS compares: the Date header, or when it was posted
  std::vector<std::pair<std::string, std::uint64_t>> placements;  // group, number
  std::string origin;  // "scenario", "file:PATH", "generated", "post:SESSION", "ihave:SESSION"

  // "protofarm comp.lang.python:3 misc.test:7": what an Xref header and overview say.
  std::string xref() const;
};
using ArticlePtr = std::shared_ptr<const StoredArticle>;

// `generate: {count, first}`: numbers first .. first+count-1.
struct Generate {
  std::uint64_t first = 1;
  std::uint64_t count = 0;
  std::uint64_t last() const { return first + count - 1; }
  bool covers(std::uint64_t n) const { return count > 0 && n >= first && n <= last(); }
};

struct Group {
  std::string name;
  std::string description;
  char status = 'y';  // y: posting, n: no local posting, m: moderated (RFC 3977 7.6.3)
  TimePoint created;
  std::map<std::uint64_t, std::shared_ptr<StoredArticle>> articles;  // scenario and posted
  Generate generate;
  std::uint64_t shadowed = 0;  // numbers in the generated run that a scenario article took

  std::uint64_t count() const { return articles.size() + generate.count - shadowed; }
  // The water marks (RFC 3977 6.1.1.2): an empty group is low 1, high 0, as INN says it.
  std::uint64_t low() const;
  std::uint64_t high() const;
};

class ArticleStore {
 public:
  ArticleStore(std::uint64_t seed, TimePoint clock) : seed_(seed), clock_(clock) {}

  // Remembers the groups' articles as the scenario made them; reset() comes back to that
  // (posted articles go). Groups stay where they are, so pointers to them remain valid.
  void mark_start();
  void reset();

  // Adds a group (or returns the one of that name).
  Group& add_group(const std::string& name);
  Group* find(std::string_view name);
  const Group* find(std::string_view name) const;
  const std::map<std::string, Group, std::less<>>& groups() const { return groups_; }

  // A scenario article at `number` in `group`. Without a Message-ID it gets the one a generated
  // article of that number would have. An article whose Message-ID is already in the store is the
  // same article cross-posted, and must be the same bytes. Returns "" or what is wrong.
  std::string place(Group& group, std::uint64_t number, Article article, std::string origin);
  void set_generate(Group& group, Generate generate);

  // The article at that number, or nullptr.
  ArticlePtr article(const Group& group, std::uint64_t number) const;
  // The first article number >= n, the last <= n.
  std::optional<std::uint64_t> next_at_or_after(const Group& group, std::uint64_t n) const;
  std::optional<std::uint64_t> prev_at_or_before(const Group& group, std::uint64_t n) const;
  ArticlePtr by_message_id(std::string_view id) const;
  bool has_message_id(std::string_view id) const { return by_message_id(id) != nullptr; }

  // A posted article: numbered after the high-water mark of each group, its Xref header set.
  ArticlePtr add_posted(Article article, std::string message_id, const std::vector<Group*>& groups,
                        TimePoint arrived, std::string origin);

  // What a generated article of that number is and would be called.
  std::string generated_message_id(const Group& group, std::uint64_t number) const;
  TimePoint generated_time(const Group& group, std::uint64_t number) const;
  // The first generated number that arrived at or after `since`, if any.
  std::optional<std::uint64_t> first_generated_since(const Group& group, TimePoint since) const;

  std::uint64_t seed() const { return seed_; }
  TimePoint clock() const { return clock_; }

 private:
  std::uint64_t article_hash(const Group& group, std::uint64_t number) const;
  std::shared_ptr<StoredArticle> generated(const Group& group, std::uint64_t number) const;
  ArticlePtr generated_by_id(std::string_view id) const;

  std::uint64_t seed_;
  TimePoint clock_;  // the scenario's clock when the store was made: generated dates end there
  std::map<std::string, Group, std::less<>> groups_;
  std::unordered_map<std::string, std::shared_ptr<StoredArticle>> by_id_;
  struct Start {
    std::map<std::uint64_t, std::shared_ptr<StoredArticle>> articles;
    std::uint64_t shadowed = 0;
  };
  std::map<std::string, Start, std::less<>> start_;
  std::unordered_map<std::string, std::shared_ptr<StoredArticle>> start_by_id_;
};

}  // namespace protofarm::nntp
