// The NNTP state machine as whole conversations, without sockets: every reply byte for byte,
// the current-article rules, listings and their wildmats, AUTHINFO, STARTTLS's state, POST and
// IHAVE with INN's checks, long listings streamed in pieces, and how scripted replies keep the
// state in step.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "fakes/nntp/nntp_protocol.hpp"

namespace protofarm::nntp {
namespace {

using namespace std::string_literals;

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const TimePoint kNow = utc(2026, 3, 1, 12, 30);

const std::string kArticle3 =
    "From: Alice <alice@example.test>\r\n"
    "Newsgroups: comp.lang.python\r\n"
    "Subject: hello\r\n"
    "Message-ID: <3@example.test>\r\n"
    "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n"
    "\r\n"
    "first line\r\n"
    ".a line that starts with a dot\r\n";
const std::string kArticle7 =
    "From: Bob <bob@example.test>\r\n"
    "Newsgroups: comp.lang.python,misc.test\r\n"
    "Subject: Re: hello\r\n"
    "Message-ID: <7@example.test>\r\n"
    "References: <3@example.test>\r\n"
    "Date: Fri, 02 Jan 2026 10:00:00 +0000\r\n"
    "X-Folded: one\r\n"
    "\ttwo\r\n"
    "\r\n"
    "answer\r\n";
const std::string kArticle10 =
    "From: Carol <carol@example.test>\r\n"
    "Newsgroups: comp.lang.python\r\n"
    "Subject: Re: hello\r\n"
    "Message-ID: <10@example.test>\r\n"
    "References: <3@example.test> <7@example.test>\r\n"
    "Date: Sat, 03 Jan 2026 08:15:00 +0000\r\n"
    "\r\n"
    "third\r\n";

const std::string kOver3 =
    "3\thello\tAlice <alice@example.test>\tThu, 01 Jan 2026 00:00:00 +0000\t<3@example.test>\t\t"
    "195\t2\tXref: protofarm comp.lang.python:3\r\n";
const std::string kOver7 =
    "7\tRe: hello\tBob <bob@example.test>\tFri, 02 Jan 2026 10:00:00 +0000\t<7@example.test>\t"
    "<3@example.test>\t220\t1\tXref: protofarm comp.lang.python:7 misc.test:1\r\n";
const std::string kOver10 =
    "10\tRe: hello\tCarol <carol@example.test>\tSat, 03 Jan 2026 08:15:00 +0000\t"
    "<10@example.test>\t<3@example.test> <7@example.test>\t210\t1\t"
    "Xref: protofarm comp.lang.python:10\r\n";

class NntpProtocol : public ::testing::Test {
 protected:
  void SetUp() override {
    config.users = {{"alice", "secret"}, {"bob", "two words"}};
    config.offer_starttls = true;
    Group& python = store.add_group("comp.lang.python");
    python.description = "The Python programming language";
    python.created = utc(2020, 1, 1);
    Group& misc = store.add_group("misc.test");
    misc.description = "For testing";
    misc.created = utc(2025, 6, 1);
    store.add_group("local.empty").created = utc(2025, 12, 1);
    Group& moderated = store.add_group("mod.announce");
    moderated.status = 'm';
    moderated.created = utc(2019, 1, 1);
    Group& archive = store.add_group("ro.archive");
    archive.status = 'n';
    archive.created = utc(2019, 1, 1);
    ASSERT_EQ(store.place(python, 3, parse_article(kArticle3).article, "scenario"), "");
    ASSERT_EQ(store.place(python, 7, parse_article(kArticle7).article, "scenario"), "");
    ASSERT_EQ(store.place(misc, 1, parse_article(kArticle7).article, "scenario"), "");
    ASSERT_EQ(store.place(python, 10, parse_article(kArticle10).article, "scenario"), "");
  }

  std::unique_ptr<Protocol> session(bool tls = false, std::uint64_t number = 1) {
    return std::make_unique<Protocol>(config, store, SessionInfo{number, tls, [] { return kNow; }});
  }
  static Reply handle(Protocol& p, std::string_view line) { return p.handle(parse_command(line)); }
  static std::string send(Protocol& p, std::string_view line) {
    Reply r = handle(p, line);
    return drain(r);
  }
  static void login(Protocol& p) {
    ASSERT_EQ(send(p, "AUTHINFO USER alice\r\n"), "381 Enter password\r\n");
    ASSERT_EQ(send(p, "AUTHINFO PASS secret\r\n"), "281 Authentication succeeded\r\n");
  }
  // POST (or IHAVE), then the article as the session would read it.
  static PostOutcome transfer(Protocol& p, std::string_view command, std::string_view article,
                              std::uint64_t unstuffed_line = 0) {
    const Reply r = handle(p, command);
    EXPECT_EQ(r.effect, Effect::read_article) << r.bytes;
    ReceivedArticle in;
    in.content = std::string(article);
    in.size = article.size();
    in.complete = true;
    in.unstuffed_line = unstuffed_line;
    return p.finish_transfer(in);
  }
  static PostOutcome post(Protocol& p, std::string_view article) {
    return transfer(p, "POST\r\n", article);
  }
  static std::string post_reply(Protocol& p, std::string_view article) {
    PostOutcome out = post(p, article);
    return drain(out.reply);
  }

  Config config;
  ArticleStore store{7, kNow};
};

// --- greeting, CAPABILITIES, bad input
// ------------------------------------------------------------

TEST_F(NntpProtocol, Greeting) {
  auto p = session();
  EXPECT_EQ(p->greeting(), "200 protofarm news server ready, posting allowed\r\n");
  EXPECT_FALSE(p->greeting_closes());
  // RFC 3977 5.1.1: 400 and 502 refuse the session.
  config.greeting = "400 busy";
  EXPECT_TRUE(p->greeting_closes());
  config.greeting = "502 go away";
  EXPECT_TRUE(p->greeting_closes());
}

TEST_F(NntpProtocol, Capabilities) {
  auto p = session();
  const std::string lists =
      "LIST ACTIVE ACTIVE.TIMES COUNTS DISTRIB.PATS DISTRIBUTIONS HEADERS MODERATORS NEWSGROUPS "
      "OVERVIEW.FMT SUBSCRIPTIONS\r\n";
  EXPECT_EQ(send(*p, "CAPABILITIES\r\n"),
            "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION protofarm\r\n"
            "AUTHINFO USER SASL\r\nHDR\r\nIHAVE\r\n" +
                lists +
                "NEWNEWS\r\nOVER MSGID\r\nPOST\r\nREADER\r\nSASL PLAIN\r\nSTARTTLS\r\n.\r\n");
  // Once logged in: no AUTHINFO, and no STARTTLS (RFC 4643 2.2, RFC 4642 2.2.2).
  login(*p);
  EXPECT_EQ(send(*p, "capabilities\r\n"),
            "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION protofarm\r\nHDR\r\nIHAVE\r\n" +
                lists + "NEWNEWS\r\nOVER MSGID\r\nPOST\r\nREADER\r\nSASL PLAIN\r\n.\r\n");
  config.posting = false;
  config.users.clear();
  auto q = session();
  EXPECT_EQ(send(*q, "CAPABILITIES\r\n"),
            "101 Capability list:\r\nVERSION 2\r\nIMPLEMENTATION protofarm\r\nHDR\r\n" + lists +
                "NEWNEWS\r\nOVER MSGID\r\nREADER\r\nSTARTTLS\r\n.\r\n");
  EXPECT_EQ(send(*q, "CAPABILITIES x!\r\n"), "501 Syntax error in keyword\r\n");
}

TEST_F(NntpProtocol, BadCommandLines) {
  auto p = session();
  EXPECT_EQ(send(*p, "FOO\r\n"), "500 What?\r\n");
  EXPECT_EQ(send(*p, "\xff\xfe\r\n"), "500 What?\r\n");
  EXPECT_EQ(send(*p, "GROUP\r\n"), "501 Syntax is: GROUP newsgroup\r\n");
  EXPECT_EQ(send(*p, "GROUP a b\r\n"), "501 Syntax is: GROUP newsgroup\r\n");
  EXPECT_EQ(send(*p, "DATE now\r\n"), "501 Syntax is: DATE (no argument allowed)\r\n");
  EXPECT_EQ(send(*p, "GROUP a\0b\r\n"s), "501 Syntax error: NUL byte in the command line\r\n");
  EXPECT_EQ(send(*p, "GROUP " + std::string(498, 'x') + "\r\n"), "501 Argument too long\r\n");
  // nnrpd reads past a blank line without answering it.
  EXPECT_EQ(send(*p, "\r\n"), "");
  EXPECT_EQ(send(*p, "date\n"), "111 20260301123000\r\n");  // bare LF and lower case are fine
}

// --- groups and the current article (RFC 3977 6.1)
// ------------------------------------------------

TEST_F(NntpProtocol, Group) {
  auto p = session();
  EXPECT_EQ(send(*p, "GROUP comp.lang.python\r\n"), "211 3 3 10 comp.lang.python\r\n");
  EXPECT_EQ(p->current(), 3u);
  EXPECT_EQ(send(*p, "GROUP no.such\r\n"), "411 No such group no.such\r\n");
  EXPECT_EQ(p->group()->name, "comp.lang.python");  // a failed GROUP changes nothing
  EXPECT_EQ(send(*p, "GROUP local.empty\r\n"), "211 0 1 0 local.empty\r\n");
  EXPECT_EQ(p->current(), std::nullopt);
  EXPECT_EQ(send(*p, "STAT\r\n"), "420 Current article number 0 is invalid\r\n");
  EXPECT_EQ(send(*p, "NEXT\r\n"), "420 Current article number 0 is invalid\r\n");
}

TEST_F(NntpProtocol, NextAndLastSkipGaps) {
  auto p = session();
  EXPECT_EQ(send(*p, "NEXT\r\n"), "412 Not in a newsgroup\r\n");
  EXPECT_EQ(send(*p, "STAT\r\n"), "412 Not in a newsgroup\r\n");
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "STAT\r\n"), "223 3 <3@example.test> status\r\n");
  EXPECT_EQ(send(*p, "LAST\r\n"), "422 No previous article to retrieve\r\n");
  EXPECT_EQ(send(*p, "NEXT\r\n"),
            "223 7 <7@example.test> Article retrieved; request text separately\r\n");
  EXPECT_EQ(send(*p, "NEXT\r\n"),
            "223 10 <10@example.test> Article retrieved; request text separately\r\n");
  EXPECT_EQ(send(*p, "NEXT\r\n"), "421 No next article to retrieve\r\n");
  EXPECT_EQ(p->current(), 10u);
  EXPECT_EQ(send(*p, "LAST\r\n"),
            "223 7 <7@example.test> Article retrieved; request text separately\r\n");
  EXPECT_EQ(send(*p, "LAST\r\n"),
            "223 3 <3@example.test> Article retrieved; request text separately\r\n");
}

TEST_F(NntpProtocol, ArticleByNumberMovesTheCurrentArticle) {
  auto p = session();
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "STAT 10\r\n"), "223 10 <10@example.test> status\r\n");
  EXPECT_EQ(p->current(), 10u);
  // A gap, or past the end: 423, and the current article stays.
  EXPECT_EQ(send(*p, "STAT 4\r\n"), "423 No such article number 4\r\n");
  EXPECT_EQ(send(*p, "ARTICLE 11\r\n"), "423 No such article number 11\r\n");
  EXPECT_EQ(p->current(), 10u);
  // By message-id: the number shown is 0 and the current article stays (RFC 3977 6.2.1.2).
  EXPECT_EQ(send(*p, "STAT <3@example.test>\r\n"), "223 0 <3@example.test> status\r\n");
  EXPECT_EQ(p->current(), 10u);
  EXPECT_EQ(send(*p, "STAT <nope@example.test>\r\n"), "430 No such article\r\n");
  EXPECT_EQ(send(*p, "STAT <bad\r\n"), "501 Syntax error in Message-ID\r\n");
  EXPECT_EQ(send(*p, "STAT 12x\r\n"), "501 Syntax error in article number\r\n");
  EXPECT_EQ(send(*p, "STAT 99999999999999999\r\n"), "501 Syntax error in article number\r\n");
}

TEST_F(NntpProtocol, ArticleHeadBodyByteForByte) {
  auto p = session();
  // A message-id needs no group.
  EXPECT_EQ(send(*p, "ARTICLE <3@example.test>\r\n"),
            "220 0 <3@example.test> article\r\n"
            "From: Alice <alice@example.test>\r\nNewsgroups: comp.lang.python\r\n"
            "Subject: hello\r\nMessage-ID: <3@example.test>\r\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n\r\n"
            "first line\r\n..a line that starts with a dot\r\n.\r\n");
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "HEAD\r\n"),
            "221 3 <3@example.test> head\r\n"
            "From: Alice <alice@example.test>\r\nNewsgroups: comp.lang.python\r\n"
            "Subject: hello\r\nMessage-ID: <3@example.test>\r\n"
            "Date: Thu, 01 Jan 2026 00:00:00 +0000\r\n.\r\n");
  EXPECT_EQ(send(*p, "BODY 3\r\n"),
            "222 3 <3@example.test> body\r\nfirst line\r\n..a line that starts with a dot\r\n"
            ".\r\n");
  EXPECT_EQ(send(*p, "ARTICLE 7\r\n"), "220 7 <7@example.test> article\r\n" + kArticle7 + ".\r\n");
}

TEST_F(NntpProtocol, Listgroup) {
  auto p = session();
  EXPECT_EQ(send(*p, "LISTGROUP\r\n"), "412 No group specified\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP comp.lang.python\r\n"),
            "211 3 3 10 comp.lang.python\r\n3\r\n7\r\n10\r\n.\r\n");
  send(*p, "STAT 10\r\n");
  // The range limits the list; the current article is the group's first all the same.
  EXPECT_EQ(send(*p, "LISTGROUP comp.lang.python 4-10\r\n"),
            "211 3 3 10 comp.lang.python\r\n7\r\n10\r\n.\r\n");
  EXPECT_EQ(p->current(), 3u);
  EXPECT_EQ(send(*p, "LISTGROUP comp.lang.python 11-\r\n"), "211 3 3 10 comp.lang.python\r\n.\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP comp.lang.python 10-3\r\n"),
            "211 3 3 10 comp.lang.python\r\n.\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP comp.lang.python x\r\n"), "501 Syntax error in range\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP no.such\r\n"), "411 No such group no.such\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP local.empty\r\n"), "211 0 1 0 local.empty\r\n.\r\n");
  send(*p, "GROUP misc.test\r\n");
  EXPECT_EQ(send(*p, "LISTGROUP\r\n"), "211 1 1 1 misc.test\r\n1\r\n.\r\n");
}

// --- overview and headers (RFC 3977 8) ----------------------------------------------------------

TEST_F(NntpProtocol, Over) {
  auto p = session();
  EXPECT_EQ(send(*p, "OVER 1-10\r\n"), "412 Not in a newsgroup\r\n");
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "OVER 3-10\r\n"),
            "224 Overview information for 3-10 follows\r\n" + kOver3 + kOver7 + kOver10 + ".\r\n");
  EXPECT_EQ(send(*p, "XOVER 1-\r\n"),
            "224 Overview information for 1- follows\r\n" + kOver3 + kOver7 + kOver10 + ".\r\n");
  EXPECT_EQ(send(*p, "OVER\r\n"), "224 Overview information for 3 follows\r\n" + kOver3 + ".\r\n");
  // By message-id, the number is 0 (RFC 3977 8.3.2).
  EXPECT_EQ(send(*p, "OVER <7@example.test>\r\n"),
            "224 Overview information follows\r\n0" + kOver7.substr(1) + ".\r\n");
  EXPECT_EQ(send(*p, "OVER <nope@example.test>\r\n"), "430 No such article\r\n");
  // Nothing in the range: OVER says 423, XOVER an empty 224 block (as nnrpd).
  EXPECT_EQ(send(*p, "OVER 4-6\r\n"), "423 No articles in 4-6\r\n");
  EXPECT_EQ(send(*p, "XOVER 4-6\r\n"), "224 No articles in 4-6\r\n.\r\n");
  EXPECT_EQ(send(*p, "OVER 1-2\r\n"), "423 No articles in 1-2\r\n");
  EXPECT_EQ(send(*p, "OVER 1-x\r\n"), "501 Syntax error in range\r\n");
  EXPECT_EQ(send(*p, "OVER x\r\n"), "501 Syntax error in Message-ID\r\n");
}

TEST_F(NntpProtocol, HdrAndXhdr) {
  auto p = session();
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "HDR Subject 3-10\r\n"),
            "225 Header information for Subject follows (from articles)\r\n"
            "3 hello\r\n7 Re: hello\r\n10 Re: hello\r\n.\r\n");
  // HDR answers every article (empty when it lacks the header); XHDR leaves it out.
  EXPECT_EQ(send(*p, "HDR References 3-\r\n"),
            "225 Header information for References follows (from articles)\r\n"
            "3 \r\n7 <3@example.test>\r\n10 <3@example.test> <7@example.test>\r\n.\r\n");
  EXPECT_EQ(send(*p, "XHDR references 3-\r\n"),
            "221 Header information for references follows (from articles)\r\n"
            "7 <3@example.test>\r\n10 <3@example.test> <7@example.test>\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR X-Folded 7\r\n"),
            "225 Header information for X-Folded follows (from articles)\r\n7 one two\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR :bytes\r\n"),
            "225 Header information for :bytes follows (from articles)\r\n3 195\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR Xref 10\r\n"),
            "225 Header information for Xref follows (from articles)\r\n"
            "10 protofarm comp.lang.python:10\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR :lines <3@example.test>\r\n"),
            "225 Header information for :lines follows (from the article)\r\n0 2\r\n.\r\n");
  EXPECT_EQ(send(*p, "XHDR Subject <10@example.test>\r\n"),
            "221 Header information for Subject follows (from the article)\r\n"
            "<10@example.test> Re: hello\r\n.\r\n");
  EXPECT_EQ(send(*p, "XHDR References <3@example.test>\r\n"),
            "221 Header information for References follows (from the article)\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR Subject 4-6\r\n"), "423 No articles in 4-6\r\n");
  EXPECT_EQ(send(*p, "XHDR Subject 4-6\r\n"),
            "221 No header information for Subject follows\r\n.\r\n");
  EXPECT_EQ(send(*p, "HDR :foo 3\r\n"), "503 Unsupported metadata request\r\n");
  EXPECT_EQ(send(*p, "HDR Sub:ject 3\r\n"), "501 Syntax error in header field name\r\n");
  EXPECT_EQ(send(*p, "HDR Subject <x\r\n"), "501 Syntax error in Message-ID\r\n");
  EXPECT_EQ(send(*p, "HDR Subject <nope@x>\r\n"), "430 No such article\r\n");
}

// --- lists (RFC 3977 7, RFC 6048) ---------------------------------------------------------------

TEST_F(NntpProtocol, ListActiveAndWildmats) {
  auto p = session();
  EXPECT_EQ(send(*p, "LIST\r\n"),
            "215 Newsgroups in form \"group high low status\"\r\n"
            "comp.lang.python 0000000010 0000000003 y\r\n"
            "local.empty 0000000000 0000000001 y\r\n"
            "misc.test 0000000001 0000000001 y\r\n"
            "mod.announce 0000000000 0000000001 m\r\n"
            "ro.archive 0000000000 0000000001 n\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST ACTIVE *,!m*,mod.*\r\n"),
            "215 Newsgroups in form \"group high low status\"\r\n"
            "comp.lang.python 0000000010 0000000003 y\r\n"
            "local.empty 0000000000 0000000001 y\r\n"
            "mod.announce 0000000000 0000000001 m\r\n"
            "ro.archive 0000000000 0000000001 n\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST ACTIVE nothing.*\r\n"),
            "215 Newsgroups in form \"group high low status\"\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST COUNTS misc.*\r\n"),
            "215 Newsgroups in form \"group high low count status\"\r\nmisc.test 1 1 1 y\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST ACTIVE misc.*,,x\r\n"), "501 Syntax error in wildmat\r\n");
  EXPECT_EQ(send(*p, "LIST ACTIVE [x\r\n"), "501 Syntax error in wildmat\r\n");
}

TEST_F(NntpProtocol, ListNewsgroupsTimesAndTheRest) {
  auto p = session();
  EXPECT_EQ(send(*p, "LIST NEWSGROUPS *\r\n"),
            "215 Newsgroup descriptions in form \"group description\"\r\n"
            "comp.lang.python\tThe Python programming language\r\nmisc.test\tFor testing\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST ACTIVE.TIMES comp.*\r\n"),
            "215 Newsgroup creation times in form \"group time who\"\r\n"
            "comp.lang.python 1577836800 news\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST HEADERS\r\n"),
            "215 Headers and metadata items supported\r\n:\r\n:bytes\r\n:lines\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST HEADERS RANGE\r\n").substr(0, 4), "215 ");
  EXPECT_EQ(send(*p, "LIST HEADERS FOO\r\n"), "501 Syntax error in arguments\r\n");
  EXPECT_EQ(send(*p, "LIST DISTRIB.PATS\r\n"),
            "215 Default distributions in form \"weight:group-pattern:distribution\"\r\n.\r\n");
  EXPECT_EQ(send(*p, "LIST DISTRIB.PATS *\r\n"), "501 Unexpected wildmat or argument\r\n");
  EXPECT_EQ(send(*p, "LIST MOTD\r\n"), "503 No message of the day available\r\n");
  EXPECT_EQ(send(*p, "LIST FOO\r\n"), "501 Unknown LIST keyword\r\n");
}

TEST_F(NntpProtocol, OverviewFormatFollowsCapabilities) {
  auto p = session();
  // nnrpd's RFC 2980 names for a client that never sent CAPABILITIES, RFC 3977's after.
  EXPECT_EQ(send(*p, "LIST OVERVIEW.FMT\r\n"),
            "215 Order of fields in overview database\r\nSubject:\r\nFrom:\r\nDate:\r\n"
            "Message-ID:\r\nReferences:\r\nBytes:\r\nLines:\r\nXref:full\r\n.\r\n");
  send(*p, "CAPABILITIES\r\n");
  EXPECT_EQ(send(*p, "LIST OVERVIEW.FMT\r\n"),
            "215 Order of fields in overview database\r\nSubject:\r\nFrom:\r\nDate:\r\n"
            "Message-ID:\r\nReferences:\r\n:bytes\r\n:lines\r\nXref:full\r\n.\r\n");
}

TEST_F(NntpProtocol, NewgroupsAndNewnews) {
  auto p = session();
  EXPECT_EQ(send(*p, "NEWGROUPS 20250101 000000 GMT\r\n"),
            "231 New newsgroups follow\r\nlocal.empty 0 1 y\r\nmisc.test 1 1 y\r\n.\r\n");
  EXPECT_EQ(send(*p, "NEWGROUPS 250601 000000\r\n"),
            "231 New newsgroups follow\r\nlocal.empty 0 1 y\r\nmisc.test 1 1 y\r\n.\r\n");
  EXPECT_EQ(send(*p, "NEWGROUPS 20260601 000000\r\n"), "231 New newsgroups follow\r\n.\r\n");
  EXPECT_EQ(send(*p, "NEWGROUPS 20250101 000000 UTC\r\n"), "501 Syntax error for \"GMT\"\r\n");
  EXPECT_EQ(send(*p, "NEWGROUPS 20251301 000000\r\n"), "501 Bad date\r\n");
  // A cross-posted article is listed once.
  EXPECT_EQ(send(*p, "NEWNEWS * 20260102 000000 GMT\r\n"),
            "230 New news follows\r\n<7@example.test>\r\n<10@example.test>\r\n.\r\n");
  EXPECT_EQ(send(*p, "NEWNEWS misc.*,!misc.test 20200101 000000\r\n"),
            "230 New news follows\r\n.\r\n");
  EXPECT_EQ(send(*p, "NEWNEWS [x 20260101 000000\r\n"), "501 Bad newsgroup specifier [x\r\n");
  EXPECT_EQ(send(*p, "NEWNEWS * 2026 000000\r\n"), "501 Bad date\r\n");
}

TEST_F(NntpProtocol, NewnewsListsGeneratedArticles) {
  store.set_generate(store.add_group("gen.small"), Generate{1, 5});
  auto p = session();
  // One a minute, the last (5) at the clock: two minutes back reaches 3.
  EXPECT_EQ(send(*p, "NEWNEWS gen.* 20260301 122800\r\n"),
            "230 New news follows\r\n" + store.generated_message_id(*store.find("gen.small"), 3) +
                "\r\n" + store.generated_message_id(*store.find("gen.small"), 4) + "\r\n" +
                store.generated_message_id(*store.find("gen.small"), 5) + "\r\n.\r\n");
}

// --- the rest of the session (RFC 3977 5, 7) ----------------------------------------------------

TEST_F(NntpProtocol, DateHelpModeQuit) {
  auto p = session();
  EXPECT_EQ(send(*p, "DATE\r\n"), "111 20260301123000\r\n");
  const std::string help = send(*p, "HELP\r\n");
  EXPECT_TRUE(
      help.starts_with("100 Legal commands\r\n  ARTICLE [message-ID|number]\r\n  AUTHINFO "))
      << help;
  EXPECT_NE(help.find("\r\n  XOVER [range|message-ID]\r\n.\r\n"), std::string::npos) << help;
  EXPECT_EQ(send(*p, "MODE READER\r\n"), "200 Posting allowed\r\n");
  EXPECT_EQ(send(*p, "MODE STREAM\r\n"), "501 Unknown MODE variant\r\n");
  const Reply quit = handle(*p, "QUIT\r\n");
  EXPECT_EQ(quit.bytes, "205 Bye!\r\n");
  EXPECT_EQ(quit.effect, Effect::close);
  config.posting = false;
  EXPECT_EQ(send(*p, "MODE READER\r\n"), "201 Posting prohibited\r\n");
}

// --- AUTHINFO (RFC 4643) ------------------------------------------------------------------------

TEST_F(NntpProtocol, AuthinfoUserPass) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTHINFO PASS secret\r\n"),
            "482 Authentication commands issued out of sequence\r\n");
  EXPECT_EQ(send(*p, "AUTHINFO USER alice\r\n"), "381 Enter password\r\n");
  const Reply wrong = handle(*p, "AUTHINFO PASS nope\r\n");
  EXPECT_EQ(wrong.bytes, "481 Authentication failed\r\n");
  ASSERT_EQ(wrong.events.size(), 1u);
  EXPECT_EQ(wrong.events[0].first, "login_failed");
  EXPECT_EQ(wrong.events[0].second["user"], "alice");
  EXPECT_EQ(wrong.events[0].second["reason"], "credentials");
  EXPECT_FALSE(p->authenticated());
  // The user name is kept, as nnrpd keeps it: PASS again is enough.
  const Reply right = handle(*p, "AUTHINFO PASS secret\r\n");
  EXPECT_EQ(right.bytes, "281 Authentication succeeded\r\n");
  ASSERT_EQ(right.events.size(), 1u);
  EXPECT_EQ(right.events[0].first, "login");
  EXPECT_EQ(right.events[0].second["user"], "alice");
  EXPECT_EQ(right.events[0].second["method"], "USER");
  EXPECT_TRUE(p->authenticated());
  EXPECT_EQ(p->user(), "alice");
  EXPECT_EQ(send(*p, "AUTHINFO USER bob\r\n"), "502 Already authenticated\r\n");
}

TEST_F(NntpProtocol, ALongUserNameOutlivesItsPendingCopy) {
  // A name longer than std::string's inline buffer lives on the heap: the login event must not
  // read it after the pending name is dropped (a use-after-free the fuzzer found; ASan sees it).
  const std::string name = "a-user-name-far-longer-than-sixteen-bytes";
  config.users.emplace(name, "pw");
  auto p = session();
  EXPECT_EQ(send(*p, "AUTHINFO USER " + name + "\r\n"), "381 Enter password\r\n");
  const Reply r = handle(*p, "AUTHINFO PASS pw\r\n");
  EXPECT_EQ(r.bytes, "281 Authentication succeeded\r\n");
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].second["user"], name);
  EXPECT_EQ(p->user(), name);
}

TEST_F(NntpProtocol, AuthinfoArgumentsAndPasswordsWithSpaces) {
  auto p = session();
  EXPECT_EQ(send(*p, "AUTHINFO FOO x\r\n"), "501 Bad AUTHINFO param\r\n");
  EXPECT_EQ(
      send(*p, "AUTHINFO USER\r\n"),
      "501 Syntax is: AUTHINFO USER name|PASS password|SASL mechanism [initial-response]\r\n");
  EXPECT_EQ(send(*p, "authinfo user bob\r\n"), "381 Enter password\r\n");
  EXPECT_EQ(send(*p, "authinfo pass two words\r\n"), "281 Authentication succeeded\r\n");
  config.users.clear();
  auto q = session();
  EXPECT_EQ(send(*q, "AUTHINFO USER alice\r\n"), "502 Authentication will fail\r\n");
}

TEST_F(NntpProtocol, AuthinfoSaslPlain) {
  auto p = session();
  const Reply ok = handle(*p, "AUTHINFO SASL PLAIN AGFsaWNlAHNlY3JldA==\r\n");
  EXPECT_EQ(ok.bytes, "281 Authentication succeeded\r\n");
  ASSERT_EQ(ok.events.size(), 1u);
  EXPECT_EQ(ok.events[0].second["method"], "PLAIN");
  EXPECT_TRUE(p->authenticated());

  auto q = session();
  // Without an initial response the challenge is empty, sent as "=" (RFC 4643 2.4.1).
  EXPECT_EQ(send(*q, "AUTHINFO SASL PLAIN\r\n"), "383 =\r\n");
  EXPECT_TRUE(q->awaiting_sasl());
  Reply r = q->handle_sasl("AGFsaWNlAHdyb25n\r\n");
  EXPECT_EQ(r.bytes, "481 Authentication failed\r\n");
  EXPECT_FALSE(q->awaiting_sasl());
  EXPECT_EQ(send(*q, "AUTHINFO SASL PLAIN\r\n"), "383 =\r\n");
  EXPECT_EQ(q->handle_sasl("*\r\n").bytes, "481 Client cancelled authentication\r\n");
  EXPECT_EQ(send(*q, "AUTHINFO SASL PLAIN\r\n"), "383 =\r\n");
  EXPECT_EQ(q->handle_sasl("%%%\r\n").bytes, "504 Invalid base64-encoded response\r\n");
  EXPECT_EQ(send(*q, "AUTHINFO SASL PLAIN\r\n"), "383 =\r\n");
  EXPECT_EQ(q->handle_sasl("AGFsaWNlAHNlY3JldA==\r\n").bytes, "281 Authentication succeeded\r\n");
  EXPECT_EQ(send(*q, "AUTHINFO SASL PLAIN x\r\n"), "502 Already authenticated\r\n");

  auto s = session();
  EXPECT_EQ(send(*s, "AUTHINFO SASL LOGIN\r\n"), "503 Mechanism not recognized\r\n");
  EXPECT_EQ(send(*s, "AUTHINFO SASL PLAIN a b\r\n"), "501 Too many arguments\r\n");
}

TEST_F(NntpProtocol, RequireAuth) {
  config.require_auth = true;
  auto p = session();
  EXPECT_EQ(send(*p, "GROUP comp.lang.python\r\n"), "480 Authentication required for command\r\n");
  EXPECT_EQ(send(*p, "LIST\r\n"), "480 Authentication required for command\r\n");
  EXPECT_EQ(send(*p, "ARTICLE <3@example.test>\r\n"),
            "480 Authentication required for command\r\n");
  EXPECT_EQ(send(*p, "POST\r\n"), "480 Authentication required for command\r\n");
  // The syntax is checked first, as nnrpd does.
  EXPECT_EQ(send(*p, "GROUP\r\n"), "501 Syntax is: GROUP newsgroup\r\n");
  // What a client needs to log in, and harmless commands, do not wait.
  EXPECT_EQ(send(*p, "CAPABILITIES\r\n").substr(0, 4), "101 ");
  EXPECT_EQ(send(*p, "MODE READER\r\n"), "200 Posting allowed\r\n");
  EXPECT_EQ(send(*p, "DATE\r\n"), "111 20260301123000\r\n");
  EXPECT_EQ(send(*p, "HELP\r\n").substr(0, 4), "100 ");
  login(*p);
  EXPECT_EQ(send(*p, "GROUP comp.lang.python\r\n"), "211 3 3 10 comp.lang.python\r\n");
}

// --- STARTTLS (RFC 4642) ------------------------------------------------------------------------

TEST_F(NntpProtocol, StartTls) {
  auto p = session();
  send(*p, "GROUP comp.lang.python\r\n");
  EXPECT_EQ(send(*p, "AUTHINFO USER alice\r\n"), "381 Enter password\r\n");
  const Reply r = handle(*p, "STARTTLS\r\n");
  EXPECT_EQ(r.bytes, "382 Begin TLS negotiation now\r\n");
  EXPECT_EQ(r.effect, Effect::start_tls);
  // RFC 4642 2.2.2: what the client said before the handshake is forgotten.
  p->tls_started();
  EXPECT_TRUE(p->tls_active());
  EXPECT_EQ(p->group(), nullptr);
  EXPECT_EQ(send(*p, "STAT\r\n"), "412 Not in a newsgroup\r\n");
  EXPECT_EQ(send(*p, "AUTHINFO PASS secret\r\n"),
            "482 Authentication commands issued out of sequence\r\n");
  EXPECT_EQ(send(*p, "STARTTLS\r\n"), "502 Already using a security layer\r\n");
  EXPECT_EQ(send(*p, "CAPABILITIES\r\n").find("STARTTLS"), std::string::npos);

  auto q = session();
  login(*q);
  EXPECT_EQ(send(*q, "STARTTLS\r\n"),
            "502 Already authenticated without the use of a security layer\r\n");
  auto implicit = session(true);
  EXPECT_EQ(send(*implicit, "STARTTLS\r\n"), "502 Already using a security layer\r\n");
  config.offer_starttls = false;
  auto plain = session();
  EXPECT_EQ(send(*plain, "STARTTLS\r\n"), "580 Can not initiate TLS negotiation\r\n");
}

// --- POST (RFC 3977 6.3.1) ----------------------------------------------------------------------

TEST_F(NntpProtocol, PostNumbersInEachGroupForLaterSessions) {
  auto p = session();
  const Reply r = handle(*p, "POST\r\n");
  ASSERT_TRUE(r.bytes.starts_with("340 Ok, recommended Message-ID <20260301123000.")) << r.bytes;
  ASSERT_TRUE(r.bytes.ends_with("@protofarm.invalid>\r\n")) << r.bytes;
  const std::string recommended = r.bytes.substr(31, r.bytes.size() - 33);
  EXPECT_TRUE(p->transfer_pending());
  ReceivedArticle in;
  in.content =
      "From: a@example.test\r\nNewsgroups: misc.test, comp.lang.python,no.such\r\n"
      "Subject: new\r\n\r\nbody\r\n";
  in.size = in.content.size();
  in.complete = true;
  PostOutcome out = p->finish_transfer(in);
  EXPECT_FALSE(p->transfer_pending());
  EXPECT_EQ(out.reply.bytes, "240 Article received " + recommended + "\r\n");
  EXPECT_TRUE(out.accepted);
  EXPECT_EQ(out.via, "POST");
  EXPECT_EQ(out.message_id, recommended);
  EXPECT_EQ(out.numbers, (std::vector<std::pair<std::string, std::uint64_t>>{
                             {"misc.test", 2}, {"comp.lang.python", 11}}));
  // A later session reads it, with the headers the server added.
  auto later = session(false, 2);
  EXPECT_EQ(send(*later, "GROUP misc.test\r\n"), "211 2 1 2 misc.test\r\n");
  EXPECT_EQ(send(*later, "ARTICLE 2\r\n"),
            "220 2 " + recommended + " article\r\n" +
                "From: a@example.test\r\nNewsgroups: misc.test, comp.lang.python,no.such\r\n"
                "Subject: new\r\nDate: Sun, 01 Mar 2026 12:30:00 +0000\r\n"
                "Message-ID: " +
                recommended +
                "\r\nPath: protofarm!not-for-mail\r\n"
                "Xref: protofarm misc.test:2 comp.lang.python:11\r\n\r\nbody\r\n.\r\n");
  EXPECT_EQ(send(*later, "NEWNEWS misc.* 20260301 123000\r\n"),
            "230 New news follows\r\n" + recommended + "\r\n.\r\n");
}

TEST_F(NntpProtocol, AnArticleTheTranscriptCouldNotSaveIsRefusedAndNotStored) {
  auto p = session();
  const std::string article =
      "From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: s\r\n\r\nbody\r\n";
  ASSERT_EQ(handle(*p, "POST\r\n").effect, Effect::read_article);
  ReceivedArticle in;
  in.content = article;
  in.size = article.size();
  in.complete = true;
  const PostOutcome post = p->finish_transfer(in, false);
  EXPECT_EQ(post.reply.bytes, "441 Article not saved: insufficient storage\r\n");
  EXPECT_FALSE(post.accepted);
  EXPECT_EQ(post.reason, "not_saved");
  EXPECT_EQ(send(*p, "GROUP misc.test\r\n"), "211 1 1 1 misc.test\r\n");  // as it was
  // IHAVE: 436, try again later (RFC 3977 6.3.2.2).
  ASSERT_EQ(handle(*p, "IHAVE <kept@peer.test>\r\n").effect, Effect::read_article);
  in.content = "Path: peer\r\n" + article.substr(0, article.size() - 8) +
               "Message-ID: <kept@peer.test>\r\n\r\nbody\r\n";
  in.size = in.content.size();
  EXPECT_EQ(p->finish_transfer(in, false).reply.bytes,
            "436 Article not saved: insufficient storage\r\n");
  EXPECT_EQ(send(*p, "STAT <kept@peer.test>\r\n"), "430 No such article\r\n");
}

TEST_F(NntpProtocol, PostedMessageIdsAreTheSameInEveryRun) {
  ArticleStore again{7, kNow};
  Protocol first(config, store, SessionInfo{3, false, [] { return kNow; }});
  Protocol second(config, again, SessionInfo{3, false, [] { return kNow; }});
  const std::string a = handle(first, "POST\r\n").bytes;
  const std::string b = handle(second, "POST\r\n").bytes;
  EXPECT_EQ(a, b);
  // Another session, or the next post of this one, gets another.
  Protocol other(config, store, SessionInfo{4, false, [] { return kNow; }});
  EXPECT_NE(handle(other, "POST\r\n").bytes, a);
  EXPECT_NE(handle(first, "POST\r\n").bytes, a);
}

TEST_F(NntpProtocol, PostRefusalsAsInnSaysThem) {
  auto p = session();
  const std::string ok = "From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: s\r\n";
  EXPECT_EQ(post_reply(*p, "From: a@example.test\r\nNewsgroups: misc.test\r\n\r\nb\r\n"),
            "441 Missing required Subject header field\r\n");
  EXPECT_EQ(post_reply(*p, "Newsgroups: misc.test\r\nSubject: s\r\n\r\nb\r\n"),
            "441 Missing required From header field\r\n");
  EXPECT_EQ(post_reply(*p, "From: a@example.test\r\nSubject: s\r\n\r\nb\r\n"),
            "441 Missing required Newsgroups header field\r\n");
  EXPECT_EQ(post_reply(*p,
                       "From: a@example.test\r\nNewsgroups: no.such, other\r\nSubject: s\r\n"
                       "\r\nb\r\n"),
            "441 No valid newsgroups in \"no.such, other\"\r\n");
  EXPECT_EQ(post_reply(*p,
                       "From: a@example.test\r\nNewsgroups: misc.test,ro.archive\r\n"
                       "Subject: s\r\n\r\nb\r\n"),
            "441 Postings to \"ro.archive\" are not allowed here\r\n");
  EXPECT_EQ(post_reply(*p, ok + "Message-ID: <3@example.test>\r\n\r\nb\r\n"),
            "441 435 Duplicate\r\n");
  EXPECT_EQ(post_reply(*p, ok + "Message-ID: <nope>\r\n\r\nb\r\n"),
            "441 Can't parse Message-ID header field body\r\n");
  EXPECT_EQ(post_reply(*p, ok + "Date: yesterday\r\n\r\nb\r\n"),
            "441 Can't parse Date header field body\r\n");
  EXPECT_EQ(post_reply(*p, ok + "Subject: again\r\n\r\nb\r\n"),
            "441 Duplicate Subject header field\r\n");
  EXPECT_EQ(post_reply(*p, ok), "441 Article has no body -- just headers\r\n");
  EXPECT_EQ(post_reply(*p, ""), "441 Article has no body -- just headers\r\n");
  EXPECT_EQ(post_reply(*p, ok + "Bad:header\r\n\r\nb\r\n"),
            "441 Invalid syntax encountered in header field (unexpected byte, no colon-space, or "
            "empty content line): Bad\r\n");
  PostOutcome unstuffed = transfer(*p, "POST\r\n", ok + "\r\nb\r\n", 5);
  EXPECT_EQ(unstuffed.reply.bytes, "441 Line 5 without its initial dot doubled (dot-stuffing)\r\n");
  EXPECT_EQ(unstuffed.reason, "Line 5 without its initial dot doubled (dot-stuffing)");
  EXPECT_FALSE(unstuffed.accepted);
  // Nothing refused was stored.
  EXPECT_EQ(store.find("misc.test")->count(), 1u);
}

TEST_F(NntpProtocol, PostTooBigOrCutShort) {
  config.max_article = 10;
  auto p = session();
  ASSERT_EQ(handle(*p, "POST\r\n").effect, Effect::read_article);
  ReceivedArticle big;
  big.content = std::string(11, 'x');
  big.size = 5000;
  big.complete = true;
  EXPECT_EQ(p->finish_transfer(big).reply.bytes,
            "441 Article is bigger than local limit of 10 bytes\r\n");
  // The client went away before the end: no reply, nothing stored.
  ASSERT_EQ(handle(*p, "POST\r\n").effect, Effect::read_article);
  ReceivedArticle cut;
  cut.content = "From: a";
  cut.size = 7;
  const PostOutcome out = p->finish_transfer(cut);
  EXPECT_EQ(out.reply.bytes, "");
  EXPECT_FALSE(out.accepted);
  EXPECT_EQ(out.reason, "incomplete");
}

TEST_F(NntpProtocol, ModeratedGroups) {
  auto p = session();
  const std::string head =
      "From: a@example.test\r\nNewsgroups: misc.test,mod.announce\r\nSubject: s\r\n";
  // No moderator address: INN's answer without one.
  EXPECT_EQ(post_reply(*p, head + "\r\nb\r\n"),
            "441 No mailing address for \"mod.announce\" -- ask your news administrator to fix "
            "this\r\n");
  PostOutcome approved = post(*p, head + "Approved: mod@example.test\r\n\r\nb\r\n");
  EXPECT_EQ(approved.reply.bytes.substr(0, 4), "240 ");
  EXPECT_EQ(approved.numbers, (std::vector<std::pair<std::string, std::uint64_t>>{
                                  {"misc.test", 2}, {"mod.announce", 1}}));
}

TEST_F(NntpProtocol, PostingNotAllowed) {
  config.posting = false;
  auto p = session();
  EXPECT_EQ(send(*p, "POST\r\n"), "440 Posting not allowed\r\n");
  EXPECT_EQ(send(*p, "IHAVE <x@example.test>\r\n"),
            "502 IHAVE command disabled by administrator\r\n");
  EXPECT_FALSE(p->transfer_pending());
}

// --- IHAVE (RFC 3977 6.3.2) ---------------------------------------------------------------------

TEST_F(NntpProtocol, Ihave) {
  auto p = session();
  const std::string article =
      "Path: peer!not-for-mail\r\nFrom: a@example.test\r\nNewsgroups: ro.archive\r\n"
      "Subject: s\r\nMessage-ID: <new@peer.test>\r\n\r\nb\r\n";
  EXPECT_EQ(send(*p, "IHAVE nope\r\n"), "501 Syntax error in Message-ID\r\n");
  EXPECT_EQ(send(*p, "IHAVE <3@example.test>\r\n"), "435 Duplicate\r\n");
  EXPECT_EQ(handle(*p, "IHAVE <new@peer.test>\r\n").bytes,
            "335 Send it; end with <CR-LF>.<CR-LF>\r\n");
  ReceivedArticle in;
  in.content = article;
  in.size = article.size();
  in.complete = true;
  EXPECT_EQ(p->finish_transfer(in).reply.bytes, "235 Article received <new@peer.test>\r\n");
  // A transfer goes to an n group (RFC 3977 7.6.3: "n" is about local posting).
  EXPECT_EQ(store.find("ro.archive")->count(), 1u);
  EXPECT_EQ(send(*p, "IHAVE <new@peer.test>\r\n"), "435 Duplicate\r\n");
  const PostOutcome mismatch = transfer(*p, "IHAVE <other@peer.test>\r\n", article);
  EXPECT_EQ(mismatch.reply.bytes,
            "437 Message-ID header field body does not match the IHAVE argument\r\n");
  EXPECT_EQ(mismatch.message_id, "<other@peer.test>");
  EXPECT_EQ(mismatch.via, "IHAVE");
  EXPECT_EQ(transfer(*p, "IHAVE <m@peer.test>\r\n",
                     "From: a@example.test\r\nNewsgroups: mod.announce\r\nSubject: s\r\n\r\nb\r\n")
                .reply.bytes,
            "437 Unapproved for \"mod.announce\"\r\n");
  EXPECT_EQ(transfer(*p, "IHAVE <u@peer.test>\r\n",
                     "From: a@example.test\r\nNewsgroups: no.such\r\nSubject: s\r\n\r\nb\r\n")
                .reply.bytes,
            "437 Unwanted newsgroup \"no.such\"\r\n");
  // Without a Message-ID header, the article gets IHAVE's.
  const PostOutcome added =
      transfer(*p, "IHAVE <added@peer.test>\r\n",
               "From: a@example.test\r\nNewsgroups: misc.test\r\nSubject: s\r\n\r\nb\r\n");
  EXPECT_EQ(added.reply.bytes, "235 Article received <added@peer.test>\r\n");
  EXPECT_EQ(store.by_message_id("<added@peer.test>")->article.value("Message-ID"),
            "<added@peer.test>");
}

// --- long listings ------------------------------------------------------------------------------

TEST_F(NntpProtocol, LongListingsComeInPieces) {
  store.set_generate(store.add_group("gen.big"), Generate{1, 3000});
  auto p = session();
  EXPECT_EQ(send(*p, "GROUP gen.big\r\n"), "211 3000 1 3000 gen.big\r\n");
  Reply r = handle(*p, "OVER 1-3000\r\n");
  EXPECT_EQ(r.bytes, "224 Overview information for 1-3000 follows\r\n");
  ASSERT_TRUE(r.more);
  std::size_t pieces = 0, lines = 0;
  std::string all;
  for (bool more = true; more;) {
    std::string piece;
    more = r.more(piece);
    ++pieces;
    lines += static_cast<std::size_t>(std::count(piece.begin(), piece.end(), '\n'));
    all += piece;
  }
  EXPECT_GE(pieces, 3u);
  EXPECT_EQ(lines, 3001u);  // and the final "."
  EXPECT_TRUE(all.ends_with("\r\n.\r\n"));
  EXPECT_TRUE(all.starts_with("1\t"));
  EXPECT_EQ(all.find("\r\n.\r\n"), all.size() - 5);  // one terminator, at the end
  // The range is clamped to the group.
  Reply tail = handle(*p, "OVER 2999-5000\r\n");
  const std::string text = drain(tail);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  EXPECT_EQ(send(*p, "LISTGROUP gen.big 2998-\r\n"),
            "211 3000 1 3000 gen.big\r\n2998\r\n2999\r\n3000\r\n.\r\n");
}

// --- scripted replies ---------------------------------------------------------------------------

TEST_F(NntpProtocol, ScriptedRepliesKeepTheStateInStep) {
  auto p = session();
  auto follow = [&](std::string_view line, int code) {
    return p->follow_reply(parse_command(line), code);
  };
  EXPECT_EQ(follow("GROUP comp.lang.python\r\n", 211).effect, Effect::none);
  EXPECT_EQ(p->group()->name, "comp.lang.python");
  EXPECT_EQ(p->current(), 3u);
  follow("ARTICLE 7\r\n", 423);  // a failure changes nothing
  EXPECT_EQ(p->current(), 3u);
  follow("ARTICLE 7\r\n", 220);
  EXPECT_EQ(p->current(), 7u);
  follow("NEXT\r\n", 223);
  EXPECT_EQ(p->current(), 10u);
  follow("AUTHINFO USER alice\r\n", 381);
  const Reply login = follow("AUTHINFO PASS whatever\r\n", 281);
  EXPECT_TRUE(p->authenticated());
  ASSERT_EQ(login.events.size(), 1u);
  EXPECT_EQ(login.events[0].second["user"], "alice");
  EXPECT_EQ(follow("STARTTLS\r\n", 382).effect, Effect::start_tls);
  EXPECT_EQ(follow("STARTTLS\r\n", 580).effect, Effect::none);
  EXPECT_EQ(follow("QUIT\r\n", 500).effect, Effect::close);
  EXPECT_EQ(follow("GROUP x\r\n", 400).effect, Effect::close);
  Command connect;
  connect.verb = "CONNECT";
  EXPECT_EQ(p->follow_reply(connect, 502).effect, Effect::close);
  EXPECT_EQ(p->follow_reply(connect, 201).effect, Effect::none);

  auto q = session();
  EXPECT_EQ(q->follow_reply(parse_command("AUTHINFO SASL PLAIN\r\n"), 383).effect, Effect::none);
  EXPECT_TRUE(q->awaiting_sasl());
  EXPECT_EQ(q->follow_reply(parse_command("IHAVE <i@x.test>\r\n"), 335).effect,
            Effect::read_article);
  EXPECT_TRUE(q->transfer_pending());
}

TEST_F(NntpProtocol, ScriptedRepliesToPostedArticles) {
  auto p = session();
  ReceivedArticle in;
  in.content = "From: a@example.test\r\nNewsgroups: misc.test\r\n\r\nno subject\r\n";
  in.size = in.content.size();
  in.complete = true;
  // A scripted 340 reads the article; a scripted 240 takes it as it is, a 441 does not.
  EXPECT_EQ(p->follow_reply(parse_command("POST\r\n"), 340).effect, Effect::read_article);
  const PostOutcome taken = p->follow_transfer(in, 240);
  EXPECT_TRUE(taken.accepted);
  EXPECT_EQ(taken.numbers, (std::vector<std::pair<std::string, std::uint64_t>>{{"misc.test", 2}}));
  EXPECT_EQ(store.by_message_id(taken.message_id)->article.value("Subject"), "");
  EXPECT_EQ(p->follow_reply(parse_command("POST\r\n"), 340).effect, Effect::read_article);
  const PostOutcome refused = p->follow_transfer(in, 441);
  EXPECT_FALSE(refused.accepted);
  EXPECT_EQ(store.find("misc.test")->count(), 2u);
  EXPECT_FALSE(p->transfer_pending());
}

}  // namespace
}  // namespace protofarm::nntp
