// Config helpers: durations, rates, sizes, "did you mean", located errors and typed reads.
#include "fakes/common/config.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace protofarm {
namespace {

using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(ParseDuration, AcceptsEveryUnit) {
  EXPECT_EQ(parse_duration("250ms"), milliseconds(250));
  EXPECT_EQ(parse_duration("2s"), seconds(2));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parse_duration("100us"), microseconds(100));
  EXPECT_EQ(parse_duration("1m"), minutes(1));
  EXPECT_EQ(parse_duration("2min"), minutes(2));
  EXPECT_EQ(parse_duration("1h"), hours(1));
  EXPECT_EQ(parse_duration("0"), microseconds(0));
}

TEST(ParseDuration, PlainNumberIsMilliseconds) {
  EXPECT_EQ(parse_duration("42"), milliseconds(42));
  EXPECT_EQ(parse_duration("0.5"), microseconds(500));
}

TEST(ParseDuration, RejectsWhatIsNotADuration) {
  for (const char* bad : {"", "ms", "s", "1.2.3s", ".5s", "5.s", "-1s", "1e3", "10 parsecs",
                          "10sec", "1d", "abc", "1 h h"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << bad;
  }
}

TEST(ParseDuration, RejectsAbsurdlyLongOnes) {
  EXPECT_EQ(parse_duration("99999999999h"), std::nullopt);
}

TEST(FormatDuration, PicksTheLargestExactUnit) {
  EXPECT_EQ(format_duration(seconds(2)), "2s");
  EXPECT_EQ(format_duration(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration(microseconds(1500)), "1500us");
  EXPECT_EQ(format_duration(minutes(1)), "60s");
}

TEST(ParseRate, AcceptsBytesPerSecondWithUnits) {
  EXPECT_EQ(parse_rate("10B/s"), 10.0);
  EXPECT_EQ(parse_rate("1.5KiB/s"), 1536.0);
  EXPECT_EQ(parse_rate("2kB/s"), 2000.0);
  EXPECT_EQ(parse_rate("2KB/s"), 2000.0);
  EXPECT_EQ(parse_rate("1MB/s"), 1e6);
  EXPECT_EQ(parse_rate("3MiB/s"), 3.0 * 1024 * 1024);
  EXPECT_EQ(parse_rate("1GiB/s"), 1024.0 * 1024 * 1024);
  EXPECT_EQ(parse_rate("10 B/s"), 10.0);
}

TEST(ParseRate, RejectsWhatIsNotARate) {
  for (const char* bad : {"", "10", "10B", "/s", "B/s", "0B/s", "0/s", "10XB/s", "10b/s", "-5B/s",
                          "10B/min", "fast"}) {
    EXPECT_EQ(parse_rate(bad), std::nullopt) << bad;
  }
}

TEST(ParseSize, AcceptsBytesWithUnits) {
  EXPECT_EQ(parse_size("512"), 512u);
  EXPECT_EQ(parse_size("0"), 0u);
  EXPECT_EQ(parse_size("64KiB"), 65536u);
  EXPECT_EQ(parse_size("1MiB"), 1048576u);
  EXPECT_EQ(parse_size("2kB"), 2000u);
  EXPECT_EQ(parse_size("1.5KiB"), 1536u);
  EXPECT_EQ(parse_size("10B"), 10u);
  EXPECT_EQ(parse_size("1GB"), 1000000000u);
}

TEST(ParseSize, RejectsWhatIsNotASize) {
  for (const char* bad : {"", "KiB", "-1", "12 parsecs", "1.2.3", "1e6", "64kib", "1TB"}) {
    EXPECT_EQ(parse_size(bad), std::nullopt) << bad;
  }
}

TEST(DidYouMean, SuggestsNearMissesOnly) {
  const std::vector<std::string> keys = {"protocol", "listen", "tls", "idle_timeout", "rules"};
  EXPECT_EQ(did_you_mean("protocl", keys), "; did you mean 'protocol'?");
  EXPECT_EQ(did_you_mean("lisen", keys), "; did you mean 'listen'?");
  EXPECT_EQ(did_you_mean("idle-timeout", keys), "; did you mean 'idle_timeout'?");
  EXPECT_EQ(did_you_mean("LISTEN", keys), "; did you mean 'listen'?");
  EXPECT_EQ(did_you_mean("colour", keys), "");
  EXPECT_EQ(did_you_mean("x", {}), "");
}

TEST(DidYouMean, ATranspositionIsOneTypo) {
  // Two swapped letters are the commonest typo; they count as one edit, not two.
  EXPECT_EQ(closest_match("tiems", {"times", "after", "then"}), "times");
  EXPECT_EQ(closest_match("rlues", {"rules", "listen"}), "rules");
  EXPECT_EQ(closest_match("tsl", {"tls", "listen"}), "tls");
}

TEST(DidYouMean, PicksTheClosest) {
  EXPECT_EQ(closest_match("reset", {"reply", "reset", "rest"}), "reset");
  EXPECT_EQ(closest_match("clsoe", {"close", "reset", "hang"}), "close");
}

TEST(ConfigErrors, FormatsFileLineColumnAndMessage) {
  ConfigErrors errors("a.yaml");
  YAML::Mark mark;
  mark.line = 2;  // 0-based in yaml-cpp
  mark.column = 4;
  errors.add(mark, "servers.x: something is wrong");
  ASSERT_EQ(errors.list().size(), 1u);
  EXPECT_EQ(errors.list()[0].line, 3);
  EXPECT_EQ(errors.list()[0].column, 5);
  EXPECT_EQ(errors.format(), "a.yaml:3:5: error: servers.x: something is wrong\n");
}

TEST(ConfigErrors, PlainErrorsHaveNoPosition) {
  ConfigErrors errors("a.yaml");
  errors.add_plain("cannot read the scenario file");
  EXPECT_EQ(errors.format(), "a.yaml: error: cannot read the scenario file\n");
  ConfigErrors nameless;
  nameless.add_plain("oops");
  EXPECT_EQ(nameless.format(), "<scenario>: error: oops\n");
}

TEST(ConfigErrors, ReportsSortedAndOncePerPosition) {
  ConfigErrors errors("a.yaml");
  YAML::Mark late, early;
  late.line = 9;
  late.column = 0;
  early.line = 1;
  early.column = 2;
  errors.add(late, "late");
  errors.add(early, "early (schema)");
  errors.add(early, "early (decoding)");
  errors.add_plain("no position 1");
  errors.add_plain("no position 2");
  EXPECT_EQ(errors.size(), 4u);
  EXPECT_EQ(errors.format(),
            "a.yaml: error: no position 1\n"
            "a.yaml: error: no position 2\n"
            "a.yaml:2:3: error: early (schema)\n"
            "a.yaml:10:1: error: late\n");
}

TEST(ConfigErrors, MergeKeepsEveryError) {
  ConfigErrors a("a.yaml"), b("b.yaml");
  a.add_plain("one");
  b.add_plain("two");
  a.merge(b);
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(a.format(), "a.yaml: error: one\nb.yaml: error: two\n");
}

TEST(ScenarioError, CarriesEveryError) {
  ConfigErrors errors("a.yaml");
  errors.add_plain("one");
  errors.add_plain("two");
  const ScenarioError e(errors);
  EXPECT_EQ(e.errors().size(), 2u);
  EXPECT_STREQ(e.what(), "a.yaml: error: one\na.yaml: error: two\n");
}

// A Cfg over a small document, its errors collected in `errors`.
struct Doc {
  explicit Doc(const std::string& yaml) : node(YAML::Load(yaml)), errors("t.yaml") {}
  Cfg root() { return Cfg(node, "", &errors); }
  YAML::Node node;
  ConfigErrors errors;
};

TEST(Cfg, TypedReadsReturnValues) {
  Doc d(
      "name: x\n"
      "count: 42\n"
      "flag: true\n"
      "wait: 250ms\n"
      "big: 64KiB\n"
      "lines: [a, b]\n"
      "line: c\n");
  const Cfg root = d.root();
  EXPECT_EQ(root["name"].str(), "x");
  EXPECT_EQ(root["count"].integer(), 42);
  EXPECT_TRUE(root["flag"].boolean());
  EXPECT_EQ(root["wait"].duration(), milliseconds(250));
  EXPECT_EQ(root["big"].size_bytes(), 65536u);
  EXPECT_EQ(root["lines"].str_list(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(root["line"].str_list(), (std::vector<std::string>{"c"}));
  EXPECT_TRUE(d.errors.empty()) << d.errors.format();
}

TEST(Cfg, MissingKeysGiveTheFallbackWithoutError) {
  Doc d("a: 1\n");
  const Cfg root = d.root();
  EXPECT_FALSE(root.has("b"));
  EXPECT_FALSE(root["b"].defined());
  EXPECT_EQ(root.str_or("b", "fb"), "fb");
  EXPECT_EQ(root.int_or("b", 7), 7);
  EXPECT_TRUE(root.bool_or("b", true));
  EXPECT_EQ(root.duration_or("b", seconds(3)), seconds(3));
  EXPECT_EQ(root["b"]["c"].at(3).str("deep"), "deep");
  EXPECT_EQ(root["b"]["c"].path(), "b.c");
  EXPECT_TRUE(d.errors.empty());
}

TEST(Cfg, WrongTypesAreReportedAtTheValue) {
  Doc d(
      "count: many\n"
      "flag: maybe\n"
      "wait: soon\n"
      "big: huge\n"
      "name: [a]\n"
      "lines: {a: 1}\n");
  const Cfg root = d.root();
  EXPECT_EQ(root["count"].integer(5), 5);
  EXPECT_FALSE(root["flag"].boolean(false));
  EXPECT_EQ(root["wait"].duration(seconds(1)), seconds(1));
  EXPECT_EQ(root["big"].size_bytes(9), 9u);
  EXPECT_EQ(root["name"].str("fb"), "fb");
  EXPECT_TRUE(root["lines"].str_list().empty());
  EXPECT_EQ(d.errors.format(),
            "t.yaml:1:8: error: count: expected an integer, got 'many'\n"
            "t.yaml:2:7: error: flag: expected true or false\n"
            "t.yaml:3:7: error: wait: expected a duration like 250ms, 2s or 1m, got 'soon'\n"
            "t.yaml:4:6: error: big: expected a size like 512, 64KiB or 1MiB, got 'huge'\n"
            "t.yaml:5:7: error: name: expected a string\n"
            "t.yaml:6:8: error: lines: expected a string or a list of strings\n");
}

TEST(Cfg, EntriesComeInFileOrderWithTheirKeyPositions) {
  Doc d(
      "servers:\n"
      "  b: {protocol: tcp}\n"
      "  a: {protocol: udp}\n");
  std::vector<std::string> names;
  std::vector<int> lines;
  d.root()["servers"].for_each_entry([&](const std::string& key, const Cfg& value) {
    names.push_back(key);
    lines.push_back(value.key_mark().line);
    EXPECT_EQ(value.path(), "servers." + key);
  });
  EXPECT_EQ(names, (std::vector<std::string>{"b", "a"}));
  EXPECT_EQ(lines, (std::vector<int>{1, 2}));
}

TEST(Cfg, ItemsHaveIndexedPaths) {
  Doc d("rules: [x, y]\n");
  std::vector<std::string> paths;
  d.root()["rules"].for_each_item([&](const Cfg& item) { paths.push_back(item.path()); });
  EXPECT_EQ(paths, (std::vector<std::string>{"rules[0]", "rules[1]"}));
}

TEST(Cfg, AnErrorOnAMissingKeyPointsAtItsParent) {
  Doc d(
      "servers:\n"
      "  a:\n"
      "    protocol: tcp\n");
  d.root()["servers"]["a"]["listen"].error("needed here");
  EXPECT_EQ(d.errors.format(), "t.yaml:3:5: error: servers.a.listen: needed here\n");
}

}  // namespace
}  // namespace protofarm
