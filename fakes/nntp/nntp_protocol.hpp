// The NNTP protocol of one session, as a state machine without I/O.
//
// The session (nntp_fake.cpp) reads a command line, parses it (nntp_codec.hpp), lets the rules
// answer, and otherwise calls handle(). Everything RFC 3977, 4642, 4643 and 2980 say about which
// command is valid when, what it answers and how the current group and article move lives here,
// one handler per verb, so a conversation is unit-tested as strings
// (tests/unit/nntp_protocol_test.cpp). Where the RFCs leave a choice, the replies are INN's
// (nnrpd), texts included. What needs I/O comes back as the Reply's effect: read an article
// (after 340 or 335), start TLS (after 382), close (after 205).
//
// Long listings (OVER, HDR, LISTGROUP, NEWNEWS over a big group) come back in pieces through
// Reply::more, so that 100,000 overview lines are never held at once.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/common/recorder.hpp"
#include "fakes/common/sasl.hpp"
#include "fakes/nntp/article_store.hpp"
#include "fakes/nntp/nntp_codec.hpp"
#include "fakes/nntp/nntp_config.hpp"

namespace protofarm::nntp {

enum class Effect {
  none,
  close,         // after the reply (205 to QUIT, a 400)
  start_tls,     // after 382 to STARTTLS
  read_article,  // after 340 to POST or 335 to IHAVE: the article follows, then finish_transfer()
};

// The rest of a long multi-line reply: each call appends the next piece to `out` and returns
// false once the block, its terminating ".\r\n" included, is complete. It reads the store and
// must be used up before the next command is handled.
using More = std::function<bool(std::string& out)>;

struct Reply {
  std::string bytes;  // sent first
  More more;          // then this, when set
  Effect effect = Effect::none;
  // Named transcript events (login, login_failed), recorded before the reply is sent.
  std::vector<std::pair<std::string, Json>> events;
};
// The whole reply as one string (tests, the fuzz target).
std::string drain(Reply& reply);

// An article the client sent after 340 or 335, as the session read it.
struct ReceivedArticle {
  std::string content;     // dot-stuffing removed; at most the server's max_article + 1 octets
  std::uint64_t size = 0;  // every octet of it
  bool complete = false;   // its terminating line arrived
  std::uint64_t bare_lf_lines = 0;
  std::uint64_t long_lines = 0;      // over 998 octets plus CRLF
  std::uint64_t unstuffed_line = 0;  // the first line with an undoubled leading dot, or 0
};

// What became of a posted or offered article.
struct PostOutcome {
  Reply reply;      // 240/235 or 441/437; nothing for an article that never ended
  std::string via;  // "POST" or "IHAVE"
  bool accepted = false;
  std::string message_id;
  std::vector<std::pair<std::string, std::uint64_t>> numbers;  // group, number
  std::string reason;                                          // why it was refused
};

struct SessionInfo {
  std::uint64_t number = 1;        // the session's number (posted Message-IDs differ by session)
  bool tls_active = false;         // implicit TLS
  std::function<TimePoint()> now;  // the scenario's clock (DATE, added Date headers)
};

class Protocol {
 public:
  Protocol(const Config& config, ArticleStore& store, SessionInfo info);

  std::string greeting() const;
  // A greeting of 400 or 502 refuses the session (RFC 3977 5.1.1): close after sending it.
  bool greeting_closes() const;
  // One command line. Never fails: bad input gets a 4xx/5xx reply.
  Reply handle(const Command& c);

  // While an AUTHINFO SASL exchange waits for the client's next line, it goes to handle_sasl().
  bool awaiting_sasl() const { return sasl_.active(); }
  Reply handle_sasl(std::string_view line);
  void cancel_sasl() { sasl_.cancel(); }
  // The STARTTLS handshake succeeded: RFC 4642 2.2.2, everything learnt before is forgotten
  // (the selected group, a pending AUTHINFO USER), and STARTTLS is no longer offered.
  void tls_started();

  // After read_article: the article the client sent; checks, numbers and stores it, and gives
  // the final reply (RFC 3977 6.3.1, 6.3.2). Without `keepable` (the transcript could not save
  // it: a full disk) an article that would be taken is refused instead, 441 to POST and 436
  // (try again later) to IHAVE, with reason "not_saved", and not stored.
  PostOutcome finish_transfer(const ReceivedArticle& article, bool keepable = true);
  // A rule answered the `posted` moment with a reply whose first line has `code`: a 2xx stores
  // the article as the built-in would, unchecked (in the groups it names that exist); anything
  // else refuses it.
  PostOutcome follow_transfer(const ReceivedArticle& article, int code);

  // A rule answered instead of handle() (or greeting(), for `on: connect`: verb "CONNECT") with a
  // reply whose first line has `code`: keeps the state in step (scenarios/README.md, "What a
  // scripted reply does"). 211 to GROUP and LISTGROUP selects the group; 22x to ARTICLE, HEAD,
  // BODY, STAT with a number, and 223 to NEXT and LAST, move the current article; 340 to POST and
  // 335 to IHAVE read an article; 381/281 to AUTHINFO do what they do (281 logs in unchecked);
  // 383 to AUTHINFO SASL PLAIN waits for the response; 382 to STARTTLS starts TLS; any reply to
  // QUIT, a 400 to anything, and a 502 greeting close. Only the effect and events count.
  Reply follow_reply(const Command& c, int code);

  const Group* group() const { return group_; }
  std::optional<std::uint64_t> current() const { return current_; }
  bool authenticated() const { return authenticated_; }
  const std::string& user() const { return user_; }
  bool tls_active() const { return tls_active_; }
  bool transfer_pending() const { return transfer_.has_value(); }
  // The commands this protocol knows (for the rules' `on`).
  static std::vector<std::string> verb_names();

 private:
  using Handler = Reply (Protocol::*)(const Command&);
  struct VerbSpec {
    std::string_view name;
    Handler handler;
    bool needs_auth;  // refused with 480 under require_auth until AUTHINFO succeeds
    std::size_t min_args, max_args;
    std::string_view usage;  // after the verb, in "501 Syntax is: ..." and HELP
  };
  static const std::vector<VerbSpec>& verbs();

  struct Transfer {
    bool ihave = false;
    std::string message_id;  // IHAVE's argument, or the id POST recommended
  };
  // What ARTICLE, HEAD, BODY and STAT name: an article and the number the reply shows.
  struct Target {
    ArticlePtr article;
    std::uint64_t number = 0;  // 0 when named by message-id
  };
  // A range of the selected group, clamped to its water marks.
  struct Span {
    std::uint64_t from = 0, to = 0;
    std::string label;  // how the reply names it: the argument, or the current number
  };

  // --- session: RFC 3977 5, RFC 4642, RFC 4643 ----------------------------------------------
  Reply on_capabilities(const Command& c);
  Reply on_mode(const Command& c);
  Reply on_quit(const Command& c);
  Reply on_help(const Command& c);
  Reply on_date(const Command& c);
  Reply on_starttls(const Command& c);
  Reply on_authinfo(const Command& c);
  // --- groups and the current article: RFC 3977 6.1 -------------------------------------------
  Reply on_group(const Command& c);
  Reply on_listgroup(const Command& c);
  Reply on_last(const Command& c);
  Reply on_next(const Command& c);
  // --- articles: RFC 3977 6.2 -----------------------------------------------------------------
  Reply on_article(const Command& c);
  Reply on_head(const Command& c);
  Reply on_body(const Command& c);
  Reply on_stat(const Command& c);
  // --- posting: RFC 3977 6.3 ------------------------------------------------------------------
  Reply on_post(const Command& c);
  Reply on_ihave(const Command& c);
  // --- information: RFC 3977 7 and 8, RFC 2980, RFC 6048 -----------------------------------
  Reply on_list(const Command& c);
  Reply on_newgroups(const Command& c);
  Reply on_newnews(const Command& c);
  Reply on_over(const Command& c);
  Reply on_hdr(const Command& c);

  // AUTHINFO's parts (RFC 4643 2.3, 2.4).
  Reply authinfo_pass(const std::string& password);
  Reply authinfo_sasl(const Command& c);
  Reply sasl_reply(const SaslStep& step);
  Reply login(std::string user, const std::string& method);  // by value: it may be pending_user_
  Reply auth_failed(const std::string& user, const std::string& method, std::string_view why,
                    int code = 481, std::string_view text = "Authentication failed");

  // Selects a group as GROUP does: the current article is its first, if any.
  void select(const Group& g);
  Reply group_reply(const Group& g) const;  // "211 count low high name"
  // ARTICLE and friends: the one article named by an optional argument, or an error reply.
  std::optional<Target> target(const Command& c, Reply& error);
  Reply fetch(const Command& c, int code, std::string_view item);
  Reply step(bool forward);  // NEXT and LAST
  // The articles an OVER/HDR argument names in the selected group (none: the current one).
  std::optional<Span> span(const Command& c, std::size_t arg, Reply& error) const;
  // Whether the group has an article in [from, to].
  bool any_in(const Group& g, std::uint64_t from, std::uint64_t to) const;
  // Streams one line per article numbered from..to, as `line` renders it (nullopt: none).
  More lines_for(const Group& g, std::uint64_t from, std::uint64_t to,
                 std::function<std::optional<std::string>(std::uint64_t)> line) const;
  Reply list_groups(std::string_view keyword, const std::optional<Wildmat>& pattern) const;
  std::vector<std::string> overview_format() const;

  // Posting: the checks INN makes, the headers it adds; "" or why the article is refused.
  std::string vet(Article& a, const Transfer& t, std::string& id, std::vector<Group*>& groups);
  std::string vet_newsgroups(const Article& a, bool ihave, std::vector<Group*>& groups);
  std::string new_message_id();
  PostOutcome refuse(PostOutcome out, bool ihave, std::string why);

  bool needs_login() const { return config_.require_auth && !authenticated_; }
  TimePoint now() const { return info_.now ? info_.now() : store_.clock(); }

  const Config& config_;
  ArticleStore& store_;
  SessionInfo info_;
  bool tls_active_;
  const Group* group_ = nullptr;
  std::optional<std::uint64_t> current_;  // nullopt: the current article number is invalid
  bool authenticated_ = false;
  std::string user_;
  std::optional<std::string> pending_user_;  // after AUTHINFO USER
  SaslExchange sasl_;
  std::optional<Transfer> transfer_;  // after 340 or 335, until the article is read
  bool capabilities_sent_ = false;    // INN's OVERVIEW.FMT form depends on it
  std::uint64_t ids_made_ = 0;        // Message-IDs this session made up
};

}  // namespace protofarm::nntp
