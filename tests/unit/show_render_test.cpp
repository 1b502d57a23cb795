// `protofarm show` rendering: prefixes, times, events, escaping, colour, filters.
#include <gtest/gtest.h>

#include "controller/show.hpp"

namespace protofarm {
namespace {

SessionTranscript hello() {
  return parse_session_document(R"({
    "server": "hello", "protocol": "tcp", "session": 1,
    "peer": "127.0.0.1:50000", "local": "127.0.0.1:40000",
    "started": "2026-01-01T00:00:00.000Z", "ended": "2026-01-01T00:00:00.010Z",
    "close": "server",
    "events": [
      {"t_ms": 0, "event": "open", "peer": "127.0.0.1:50000"},
      {"t_ms": 0.215, "from": "server", "text": "220 hello\r\n", "step": 0},
      {"t_ms": 3.9, "from": "client", "text": "HELO alice\r\n", "command": "HELO"},
      {"t_ms": 4, "event": "rule", "rule": "rules[0]", "on": "HELO", "count": 1},
      {"t_ms": 4.5, "from": "client", "text": "DATA\r\nline two\nend"},
      {"t_ms": 5, "from": "client", "base64": "AP8K"},
      {"t_ms": 6, "from": "client", "text": "late\r\n", "after_close": true},
      {"t_ms": 7, "event": "close", "close": "server"}
    ]})",
                                "test");
}

TEST(ShowRender, PlainConversation) {
  EXPECT_EQ(render_session(hello(), {false}),
            "== hello session 1 (tcp)  127.0.0.1:50000 -> 127.0.0.1:40000  "
            "2026-01-01T00:00:00.000Z  close: server\n"
            "     0.000  -- open peer=127.0.0.1:50000\n"
            "     0.215  S: 220 hello\\r\\n  (step 0)\n"
            "     3.900  C: HELO alice\\r\\n\n"
            "     4.000  -- rule rules[0] on=HELO count=1\n"
            "     4.500  C: DATA\\r\\n\n"
            "            C: line two\\n\n"
            "            C: end\n"
            "     5.000  C: \\x00\\xff\\n\n"
            "     6.000  C: late\\r\\n  (after_close)\n"
            "     7.000  -- close server\n");
}

TEST(ShowRender, ColourWrapsPieces) {
  const std::string out = render_session(hello(), {true});
  EXPECT_NE(out.find("\033[1m== hello session 1 (tcp)\033[0m"), std::string::npos) << out;
  EXPECT_NE(out.find("\033[36mC: HELO alice\033[0m\033[2m\\r\\n\033[0m"), std::string::npos) << out;
  EXPECT_NE(out.find("\033[33mS: 220 hello\033[0m"), std::string::npos) << out;
  EXPECT_NE(out.find("\033[35m-- close server\033[0m"), std::string::npos) << out;
  EXPECT_EQ(render_session(hello(), {false}).find('\033'), std::string::npos);
}

TEST(ShowRender, UseColor) {
  EXPECT_TRUE(use_color("always", false, "1"));
  EXPECT_FALSE(use_color("never", true, nullptr));
  EXPECT_TRUE(use_color("auto", true, nullptr));
  EXPECT_TRUE(use_color("auto", true, ""));  // NO_COLOR only counts when not empty
  EXPECT_FALSE(use_color("auto", true, "1"));
  EXPECT_FALSE(use_color("auto", false, nullptr));
}

TEST(ShowRender, Filters) {
  TranscriptSet set;
  auto one = hello();
  auto two = hello();
  two.session = 2;
  auto other = hello();
  other.server = "mail";
  set.servers["hello"] = {one, two};
  set.servers["mail"] = {other};
  const std::string all = render_transcripts(set, std::nullopt, std::nullopt, {false});
  EXPECT_NE(all.find("== hello session 1"), std::string::npos);
  EXPECT_NE(all.find("\n\n== hello session 2"), std::string::npos);
  EXPECT_NE(all.find("== mail session 1"), std::string::npos);
  const std::string only = render_transcripts(set, std::string("hello"), 2, {false});
  EXPECT_EQ(only.find("== hello session 1"), std::string::npos);
  EXPECT_NE(only.find("== hello session 2"), std::string::npos);
  EXPECT_EQ(only.find("mail"), std::string::npos);
  EXPECT_EQ(render_transcripts(set, std::string("hello"), 9, {false}), "");
}

TEST(ShowRender, UnfinishedSession) {
  TranscriptSet set;
  merge_event_log(R"({"server":"x","session":1,"t_ms":0,"event":"open"})", "events.jsonl", set);
  const std::string out = render_session(set.sessions_of("x")[0], {false});
  EXPECT_NE(out.find("unfinished (rebuilt from events.jsonl)"), std::string::npos) << out;
}

}  // namespace
}  // namespace protofarm
