// The NNTP fake's article store: water marks with gaps, articles by number and message-id,
// cross-posts as one article, posted articles, and generated articles made on demand.
#include <gtest/gtest.h>

#include <chrono>

#include "fakes/nntp/article_store.hpp"

namespace protofarm::nntp {
namespace {

TimePoint utc(int y, unsigned m, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return std::chrono::sys_days{std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const TimePoint kClock = utc(2026, 1, 1);

Article article(std::string_view id, std::string_view subject = "hello") {
  Article a;
  a.add("From", "a@example.test");
  a.add("Newsgroups", "comp.lang.python");
  a.add("Subject", subject);
  if (!id.empty()) a.add("Message-ID", id);
  a.add("Date", "Fri, 02 Jan 2026 10:00:00 +0000");
  a.body = "body\r\n";
  return a;
}

class NntpStore : public ::testing::Test {
 protected:
  ArticleStore store{7, kClock};
};

TEST_F(NntpStore, AnEmptyGroup) {
  Group& g = store.add_group("misc.test");
  EXPECT_EQ(g.count(), 0u);
  EXPECT_EQ(g.low(), 1u);  // RFC 3977 6.1.1.2: high = low - 1, as INN says it ("0 1 0")
  EXPECT_EQ(g.high(), 0u);
  EXPECT_EQ(g.created, kClock);
  EXPECT_EQ(store.article(g, 1), nullptr);
  EXPECT_EQ(store.next_at_or_after(g, 0), std::nullopt);
  EXPECT_EQ(&store.add_group("misc.test"), &g);  // the same group again
  EXPECT_EQ(store.find("misc.test"), &g);
  EXPECT_EQ(store.find("misc"), nullptr);
}

TEST_F(NntpStore, NumbersWithGaps) {
  Group& g = store.add_group("comp.lang.python");
  EXPECT_EQ(store.place(g, 10, article("<10@x.test>"), "scenario"), "");
  EXPECT_EQ(store.place(g, 3, article("<3@x.test>"), "scenario"), "");
  EXPECT_EQ(store.place(g, 7, article("<7@x.test>"), "scenario"), "");
  EXPECT_EQ(g.count(), 3u);
  EXPECT_EQ(g.low(), 3u);
  EXPECT_EQ(g.high(), 10u);
  EXPECT_EQ(store.article(g, 4), nullptr);
  EXPECT_EQ(store.article(g, 7)->message_id, "<7@x.test>");
  EXPECT_EQ(store.next_at_or_after(g, 4), 7u);
  EXPECT_EQ(store.next_at_or_after(g, 7), 7u);
  EXPECT_EQ(store.next_at_or_after(g, 11), std::nullopt);
  EXPECT_EQ(store.prev_at_or_before(g, 6), 3u);
  EXPECT_EQ(store.prev_at_or_before(g, 2), std::nullopt);
  EXPECT_EQ(store.by_message_id("<3@x.test>")->placements,
            (std::vector<std::pair<std::string, std::uint64_t>>{{"comp.lang.python", 3}}));
  EXPECT_EQ(store.by_message_id("<4@x.test>"), nullptr);
  // The Date header is when it arrived (what NEWNEWS compares).
  EXPECT_EQ(store.article(g, 3)->arrived, utc(2026, 1, 2, 10));
}

TEST_F(NntpStore, RefusesANumberTwice) {
  Group& g = store.add_group("comp.lang.python");
  EXPECT_EQ(store.place(g, 3, article("<3@x.test>"), "scenario"), "");
  EXPECT_EQ(store.place(g, 3, article("<other@x.test>"), "scenario"),
            "article number 3 is used twice in comp.lang.python");
}

TEST_F(NntpStore, AnArticleWithoutMessageIdGetsOne) {
  Group& g = store.add_group("comp.lang.python");
  ASSERT_EQ(store.place(g, 5, article(""), "scenario"), "");
  const ArticlePtr a = store.article(g, 5);
  EXPECT_EQ(a->message_id, store.generated_message_id(g, 5));
  EXPECT_EQ(a->article.value("Message-ID"), a->message_id);
  EXPECT_EQ(store.by_message_id(a->message_id), a);
}

TEST_F(NntpStore, ACrossPostIsOneArticle) {
  Group& python = store.add_group("comp.lang.python");
  Group& misc = store.add_group("misc.test");
  ASSERT_EQ(store.place(python, 3, article("<x@x.test>"), "scenario"), "");
  ASSERT_EQ(store.place(misc, 9, article("<x@x.test>"), "scenario"), "");
  EXPECT_EQ(store.article(python, 3), store.article(misc, 9));
  EXPECT_EQ(store.article(misc, 9)->xref(), "protofarm comp.lang.python:3 misc.test:9");
  // The same message-id with other bytes is a mistake in the scenario.
  const std::string why = store.place(misc, 10, article("<x@x.test>", "other"), "scenario");
  EXPECT_NE(why.find("Message-ID <x@x.test> names another article already"), std::string::npos)
      << why;
  EXPECT_EQ(misc.count(), 1u);
}

TEST_F(NntpStore, PostedArticlesFollowTheHighWaterMark) {
  Group& python = store.add_group("comp.lang.python");
  Group& misc = store.add_group("misc.test");
  ASSERT_EQ(store.place(python, 10, article("<10@x.test>"), "scenario"), "");
  Article a = article("<new@x.test>");
  a.add("Xref", "forged 1:1");
  const ArticlePtr posted =
      store.add_posted(a, "<new@x.test>", {&python, &misc}, utc(2026, 1, 5), "post:1");
  EXPECT_EQ(posted->placements, (std::vector<std::pair<std::string, std::uint64_t>>{
                                    {"comp.lang.python", 11}, {"misc.test", 1}}));
  EXPECT_EQ(posted->article.count("Xref"), 1u);
  EXPECT_EQ(posted->article.value("Xref"), "protofarm comp.lang.python:11 misc.test:1");
  EXPECT_EQ(store.article(misc, 1), posted);
  EXPECT_EQ(store.by_message_id("<new@x.test>"), posted);
  EXPECT_EQ(python.high(), 11u);
  EXPECT_EQ(posted->arrived, utc(2026, 1, 5));
}

TEST_F(NntpStore, GeneratedArticlesAreMadeOnDemand) {
  Group& g = store.add_group("misc.generated");
  store.set_generate(g, Generate{1, 100000});
  EXPECT_EQ(g.count(), 100000u);
  EXPECT_EQ(g.low(), 1u);
  EXPECT_EQ(g.high(), 100000u);
  const ArticlePtr a = store.article(g, 42);
  ASSERT_TRUE(a);
  // Nothing is kept: the group holds no article, however many are read.
  for (std::uint64_t n = 1; n <= 1000; ++n) ASSERT_TRUE(store.article(g, n));
  EXPECT_TRUE(g.articles.empty());
  // The same number gives the same bytes every time.
  EXPECT_EQ(store.article(g, 42)->article.render(), a->article.render());
  EXPECT_EQ(a->message_id, store.generated_message_id(g, 42));
  EXPECT_EQ(a->article.value("Message-ID"), a->message_id);
  EXPECT_EQ(a->article.value("Newsgroups"), "misc.generated");
  EXPECT_EQ(a->article.value("Xref"), "protofarm misc.generated:42");
  EXPECT_FALSE(a->article.value("From").empty());
  EXPECT_FALSE(a->article.value("Subject").empty());
  EXPECT_FALSE(a->article.body.empty());
  EXPECT_TRUE(a->article.body.ends_with("\r\n"));
  // One a minute, the last at the clock.
  EXPECT_EQ(store.article(g, 100000)->arrived, kClock);
  EXPECT_EQ(a->arrived, kClock - std::chrono::minutes(100000 - 42));
  EXPECT_EQ(a->article.value("Date"), article_date(a->arrived));
  EXPECT_EQ(store.article(g, 0), nullptr);
  EXPECT_EQ(store.article(g, 100001), nullptr);
}

TEST_F(NntpStore, GeneratedArticlesDependOnTheSeed) {
  ArticleStore other(8, kClock);
  Group& a = store.add_group("misc.generated");
  Group& b = other.add_group("misc.generated");
  store.set_generate(a, Generate{1, 10});
  other.set_generate(b, Generate{1, 10});
  EXPECT_NE(store.generated_message_id(a, 1), other.generated_message_id(b, 1));
  EXPECT_NE(store.generated_message_id(a, 1), store.generated_message_id(a, 2));
}

TEST_F(NntpStore, GeneratedArticlesByMessageId) {
  Group& g = store.add_group("misc.generated");
  store.set_generate(g, Generate{500001, 1000});
  const std::string id = store.generated_message_id(g, 500500);
  const ArticlePtr a = store.by_message_id(id);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->placements.front().second, 500500u);
  // Numbers outside the run, a wrong hash, another group: nothing.
  EXPECT_EQ(store.by_message_id(store.generated_message_id(g, 1)), nullptr);
  std::string forged = id;
  forged[forged.find('@') - 1] ^= 1;
  EXPECT_EQ(store.by_message_id(forged), nullptr);
  EXPECT_EQ(store.by_message_id("<500500.0@misc.generated>"), nullptr);
  EXPECT_EQ(store.by_message_id("<500500.x@no.such.group>"), nullptr);
}

TEST_F(NntpStore, AScenarioArticleTakesAGeneratedNumber) {
  Group& g = store.add_group("misc.generated");
  store.set_generate(g, Generate{1, 10});
  const std::string generated_id = store.generated_message_id(g, 5);
  ASSERT_EQ(store.place(g, 5, article("<five@x.test>"), "scenario"), "");
  ASSERT_EQ(store.place(g, 20, article("<twenty@x.test>"), "scenario"), "");
  EXPECT_EQ(g.count(), 11u);
  EXPECT_EQ(g.high(), 20u);
  EXPECT_EQ(store.article(g, 5)->message_id, "<five@x.test>");
  EXPECT_EQ(store.by_message_id(generated_id), nullptr);
  EXPECT_EQ(store.next_at_or_after(g, 11), 20u);
  EXPECT_EQ(store.prev_at_or_before(g, 19), 10u);
  // Setting the run after the articles counts the same.
  store.set_generate(g, Generate{1, 10});
  EXPECT_EQ(g.count(), 11u);
}

TEST_F(NntpStore, FirstGeneratedSince) {
  Group& g = store.add_group("misc.generated");
  store.set_generate(g, Generate{1, 100});
  EXPECT_EQ(store.first_generated_since(g, kClock), 100u);
  EXPECT_EQ(store.first_generated_since(g, kClock - std::chrono::minutes(10)), 90u);
  EXPECT_EQ(store.first_generated_since(g, kClock - std::chrono::seconds(30)), 100u);
  EXPECT_EQ(store.first_generated_since(g, kClock - std::chrono::hours(1000)), 1u);
  EXPECT_EQ(store.first_generated_since(g, kClock + std::chrono::seconds(1)), std::nullopt);
  Group& empty = store.add_group("misc.empty");
  EXPECT_EQ(store.first_generated_since(empty, kClock), std::nullopt);
}

}  // namespace
}  // namespace protofarm::nntp
