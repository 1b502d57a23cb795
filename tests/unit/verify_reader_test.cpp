// Transcript reading for verify/show: session documents, events.jsonl recovery, line splitting.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "controller/transcript_reader.hpp"

namespace protofarm {
namespace {

namespace fs = std::filesystem;

TEST(VerifySplitLines, CrlfLfAndPartial) {
  const auto lines = split_lines("EHLO a\r\nMAIL FROM:<x>\nDAT");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "EHLO a");
  EXPECT_EQ(lines[0].end, Line::End::crlf);
  EXPECT_EQ(lines[1].text, "MAIL FROM:<x>");
  EXPECT_EQ(lines[1].end, Line::End::lf);
  EXPECT_EQ(lines[2].text, "DAT");
  EXPECT_EQ(lines[2].end, Line::End::none);
}

TEST(VerifySplitLines, EmptyLinesAndBareCr) {
  EXPECT_TRUE(split_lines("").empty());
  const auto lines = split_lines("\r\n\na\rb\r\n");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].text, "");
  EXPECT_EQ(lines[1].text, "");
  EXPECT_EQ(lines[2].text, "a\rb");  // a CR not before LF is part of the line
}

TEST(VerifyEventBytes, TextAndBase64) {
  EXPECT_EQ(event_bytes(TranscriptJson::parse(R"({"from":"client","text":"hi\r\n"})")), "hi\r\n");
  EXPECT_EQ(event_bytes(TranscriptJson::parse(R"({"from":"client","base64":"/wA="})")),
            std::string("\xff\x00", 2));
  EXPECT_EQ(event_bytes(TranscriptJson::parse(R"({"event":"open"})")), "");
}

TEST(VerifyClientLines, JoinsEventsAndSkipsAfterClose) {
  const auto doc = TranscriptJson::parse(R"({"events":[
    {"t_ms":0,"event":"open"},
    {"t_ms":1,"from":"server","text":"220 hi\r\n"},
    {"t_ms":2,"from":"client","text":"HE"},
    {"t_ms":3,"from":"client","text":"LO a\r\nQUIT\r\n"},
    {"t_ms":4,"from":"client","text":"LATE\r\n","after_close":true},
    {"t_ms":5,"from":"client","text":"DISCARDED\r\n","discarded":true}]})");
  EXPECT_EQ(client_lines(doc), (std::vector<std::string>{"HELO a", "QUIT", "DISCARDED"}));
}

TEST(VerifyClientLines, EachDatagramStandsApart) {
  const auto doc = TranscriptJson::parse(R"({"protocol":"udp","events":[
    {"t_ms":1,"from":"client","text":"PING 1"},
    {"t_ms":2,"from":"server","text":"PONG 1"},
    {"t_ms":3,"from":"client","text":"PING 2\nsecond line\n"}]})");
  EXPECT_EQ(client_lines(doc), (std::vector<std::string>{"PING 1", "PING 2", "second line"}));
}

TEST(VerifyParseSession, RejectsBadDocuments) {
  EXPECT_THROW(parse_session_document("{", "x.json"), TranscriptError);
  EXPECT_THROW(parse_session_document("[]", "x.json"), TranscriptError);
  EXPECT_THROW(parse_session_document(R"({"server":"a","events":[]})", "x.json"), TranscriptError);
  EXPECT_THROW(parse_session_document(R"({"server":"a","session":1})", "x.json"), TranscriptError);
  try {
    parse_session_document("{oops", "sessions/a/1.json");
    FAIL();
  } catch (const TranscriptError& e) {
    EXPECT_NE(std::string(e.what()).find("sessions/a/1.json"), std::string::npos);
  }
  const auto s = parse_session_document(
      R"({"server":"a","session":2,"close":"client","events":[]})", "x.json");
  EXPECT_EQ(s.server, "a");
  EXPECT_EQ(s.session, 2u);
  EXPECT_TRUE(s.complete);
}

TEST(VerifyEventLog, RebuildsSessionsWithoutDocuments) {
  TranscriptSet set;
  set.servers["a"].push_back(parse_session_document(
      R"({"server":"a","session":1,"close":"client","events":[]})", "a/1.json"));
  const std::string log =
      R"({"server":"a","session":1,"t_ms":0,"event":"open"})"
      "\n"
      R"({"server":"a","session":2,"t_ms":0,"event":"open","peer":"127.0.0.1:5","local":"127.0.0.1:6","protocol":"tcp"})"
      "\n"
      R"({"server":"a","session":2,"t_ms":1.5,"from":"client","text":"x\n"})"
      "\n\n";
  merge_event_log(log, "events.jsonl", set);
  ASSERT_EQ(set.sessions_of("a").size(), 2u);
  const auto& s2 = set.sessions_of("a")[1];
  EXPECT_EQ(s2.session, 2u);
  EXPECT_FALSE(s2.complete);
  EXPECT_TRUE(s2.doc["close"].is_null());
  EXPECT_EQ(s2.doc["protocol"], "tcp");
  ASSERT_EQ(s2.doc["events"].size(), 2u);
  EXPECT_FALSE(s2.doc["events"][1].contains("server"));
  EXPECT_EQ(client_lines(s2.doc), std::vector<std::string>{"x"});
  // Session 1 had a document: its events are not added twice.
  EXPECT_TRUE(set.sessions_of("a")[0].doc["events"].empty());
}

TEST(VerifyEventLog, ClosedButUndocumentedSessionIsComplete) {
  TranscriptSet set;
  merge_event_log(R"({"server":"b","session":1,"t_ms":0,"event":"close","close":"reset"})",
                  "events.jsonl", set);
  ASSERT_EQ(set.sessions_of("b").size(), 1u);
  EXPECT_TRUE(set.sessions_of("b")[0].complete);
  EXPECT_EQ(set.sessions_of("b")[0].doc["close"], "reset");
}

TEST(VerifyEventLog, CorruptLineNamesTheLine) {
  TranscriptSet set;
  try {
    merge_event_log("{\"server\":\"a\",\"session\":1}\n{broken\n", "events.jsonl", set);
    FAIL();
  } catch (const TranscriptError& e) {
    EXPECT_NE(std::string(e.what()).find("events.jsonl line 2"), std::string::npos) << e.what();
  }
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("protofarm-verify-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const fs::path& rel, const std::string& text) {
    fs::create_directories((dir_ / rel).parent_path());
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  fs::path dir_;
};

using VerifyReadDir = TempDir;

TEST_F(VerifyReadDir, MissingAndEmptyDirectories) {
  EXPECT_THROW(read_transcripts(dir_ / "nope"), TranscriptError);
  EXPECT_THROW(read_transcripts(dir_), TranscriptError);  // neither events.jsonl nor sessions/
  write("events.jsonl", "");
  const auto set = read_transcripts(dir_);
  EXPECT_TRUE(set.has_events_file);
  EXPECT_EQ(set.session_count(), 0u);
}

TEST_F(VerifyReadDir, ReadsSortedSessionsAndSkipsTemporaryFiles) {
  write("events.jsonl", "");
  write("sessions/hello/10.json", R"({"server":"hello","session":10,"events":[]})");
  write("sessions/hello/2.json", R"({"server":"hello","session":2,"events":[]})");
  write("sessions/hello/3.json.tmp", "{half");
  const auto set = read_transcripts(dir_);
  ASSERT_EQ(set.sessions_of("hello").size(), 2u);
  EXPECT_EQ(set.sessions_of("hello")[0].session, 2u);
  EXPECT_EQ(set.sessions_of("hello")[1].session, 10u);
}

TEST_F(VerifyReadDir, CorruptSessionFileThrows) {
  write("sessions/hello/1.json", "{\"server\":");
  EXPECT_THROW(read_transcripts(dir_), TranscriptError);
}

}  // namespace
}  // namespace protofarm
