// The transcript writer: events.jsonl, session documents, payload files (DESIGN.md,
// "Transcripts").
#include "fakes/common/recorder.hpp"

#include <gtest/gtest.h>

#include <unistd.h>
#include <functional>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <regex>
#include <sstream>
#include <vector>

namespace protofarm {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> read_lines(const fs::path& p) {
  std::vector<std::string> lines;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/protofarm-recorder-XXXXXX";
    ASSERT_NE(::mkdtemp(templ), nullptr);
    dir_ = templ;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path dir_;
};

TEST_F(RecorderTest, WithoutADirectoryNothingIsRecorded) {
  TranscriptSink sink;
  EXPECT_FALSE(sink.enabled());
  SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
  EXPECT_FALSE(rec.recording());
  rec.client("x");
  EXPECT_EQ(rec.save_file("a", "b"), "");
  rec.finish(CloseReason::client);
  EXPECT_TRUE(rec.finished());
}

TEST_F(RecorderTest, OpeningCreatesTheDirectoryAndClearsAPreviousRun) {
  const fs::path dir = dir_ / "deep" / "t";
  fs::create_directories(dir / "sessions" / "old");
  fs::create_directories(dir / "files" / "old");
  std::ofstream(dir / "sessions" / "old" / "1.json") << "{}";
  std::ofstream(dir / "events.jsonl") << "{\"stale\":true}\n";
  std::ofstream(dir / "keep.txt") << "mine";
  TranscriptSink sink(dir);
  EXPECT_TRUE(sink.enabled());
  EXPECT_EQ(sink.dir(), fs::absolute(dir));
  EXPECT_FALSE(fs::exists(dir / "sessions"));
  EXPECT_FALSE(fs::exists(dir / "files"));
  EXPECT_EQ(read_file(dir / "events.jsonl"), "");
  EXPECT_TRUE(fs::exists(dir / "keep.txt"));  // not ours: left alone
}

TEST_F(RecorderTest, AnUnusableDirectoryThrows) {
  std::ofstream(dir_ / "file") << "x";
  EXPECT_THROW(TranscriptSink(dir_ / "file" / "sub"), std::runtime_error);
}

TEST_F(RecorderTest, EventsJsonlHasOneLinePerEventWithServerAndSession) {
  TranscriptSink sink(dir_);
  {
    SessionRecorder a(sink, "mail", "smtp", 1, "127.0.0.1:5000", "127.0.0.1:25");
    SessionRecorder b(sink, "web", "http", 7, "[::1]:6000", "[::1]:80");
    a.server("220 hi\r\n");
    b.client("GET / HTTP/1.0\r\n\r\n", Json{{"method", "GET"}, {"path", "/"}});
    a.client("QUIT\r\n", Json{{"command", "QUIT"}});
    a.event("rule", Json{{"rule", "r1"}});
    a.finish(CloseReason::client);
    b.finish(CloseReason::shutdown);
  }
  sink.sync();  // the writer thread has written everything so far
  const auto lines = read_lines(dir_ / "events.jsonl");
  ASSERT_EQ(lines.size(), 8u);
  std::vector<std::string> summary;
  for (const auto& line : lines) {
    const Json e = Json::parse(line);  // each line is a whole JSON object
    ASSERT_TRUE(e.is_object()) << line;
    auto it = e.begin();
    EXPECT_EQ(it.key(), "server");
    EXPECT_EQ((++it).key(), "session");
    EXPECT_EQ((++it).key(), "t_ms");
    EXPECT_TRUE(e["t_ms"].is_number());
    EXPECT_GE(e["t_ms"].get<double>(), 0.0);
    std::string what = e.value("event", e.value("from", "?"));
    summary.push_back(e["server"].get<std::string>() + "/" +
                      std::to_string(e["session"].get<int>()) + " " + what);
  }
  EXPECT_EQ(summary, (std::vector<std::string>{"mail/1 open", "web/7 open", "mail/1 server",
                                               "web/7 client", "mail/1 client", "mail/1 rule",
                                               "mail/1 close", "web/7 close"}));
  const Json open = Json::parse(lines[0]);
  EXPECT_EQ(open["peer"], "127.0.0.1:5000");
  EXPECT_EQ(open["local"], "127.0.0.1:25");
  EXPECT_EQ(open["protocol"], "smtp");
  const Json get = Json::parse(lines[3]);
  EXPECT_EQ(get["text"], "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(get["method"], "GET");
  EXPECT_EQ(Json::parse(lines[7])["close"], "shutdown");
}

TEST_F(RecorderTest, EventsJsonlIsWrittenAsEventsHappen) {
  // Without a deferred flush (set by the farm), each event is written at once.
  TranscriptSink sink(dir_);
  SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
  rec.client("hello\n");
  sink.sync();  // the writer thread has written everything so far
  const auto lines = read_lines(dir_ / "events.jsonl");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Json::parse(lines[1])["text"], "hello\n");
  EXPECT_FALSE(fs::exists(dir_ / "sessions" / "s" / "1.json"));
}

TEST_F(RecorderTest, ADeferredFlushWritesABurstAtOnceAndBeforeTheSessionDocument) {
  TranscriptSink sink(dir_);
  std::vector<std::function<void()>> deferred;
  sink.set_deferred_flush([&](std::function<void()> f) { deferred.push_back(std::move(f)); });
  {
    SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
    rec.client("one\n");
    rec.server("two \"quoted\" \x01\n");
    EXPECT_EQ(read_file(dir_ / "events.jsonl"), "") << "nothing written inside the burst";
    EXPECT_EQ(deferred.size(), 1u) << "one flush for the burst";
    deferred.front()();
    sink.sync();  // the writer thread has written everything so far
    const auto lines = read_lines(dir_ / "events.jsonl");
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(Json::parse(lines[2])["text"], "two \"quoted\" \x01\n");
    rec.client("three\n");
  }             // finishing writes the document, which flushes first
  sink.sync();  // the writer thread has written everything so far
  EXPECT_EQ(read_lines(dir_ / "events.jsonl").size(), 5u);
  EXPECT_TRUE(fs::exists(dir_ / "sessions" / "s" / "1.json"));
}

TEST_F(RecorderTest, BytesAreTextWhenValidUtf8ElseBase64) {
  TranscriptSink sink(dir_);
  SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
  rec.client("caf\xc3\xa9\r\n");
  rec.server("\xff\xfe\x00\x01"s);
  rec.client("\x00 nul is valid UTF-8"s);
  rec.server("");  // nothing crossed the wire: no event
  rec.finish(CloseReason::server);
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "s" / "1.json"));
  const Json& ev = doc["events"];
  ASSERT_EQ(ev.size(), 5u);
  EXPECT_EQ(ev[1]["from"], "client");
  EXPECT_EQ(ev[1]["text"], "caf\xc3\xa9\r\n");
  EXPECT_FALSE(ev[1].contains("base64"));
  EXPECT_EQ(ev[2]["from"], "server");
  EXPECT_EQ(ev[2]["base64"], "//4AAQ==");
  EXPECT_FALSE(ev[2].contains("text"));
  EXPECT_EQ(ev[3]["text"], "\x00 nul is valid UTF-8"s);
  EXPECT_EQ(ev[4]["event"], "close");
}

TEST_F(RecorderTest, TheSessionDocumentHasExactlyTheDesignedFields) {
  TranscriptSink sink(dir_);
  {
    SessionRecorder rec(sink, "mail", "smtp", 3, "127.0.0.1:5000", "127.0.0.1:2525");
    rec.server("220 ready\r\n", Json{{"rule", "r"}});
    rec.event("message", Json{{"file", "files/mail/3/1.eml"}});
    rec.finish(CloseReason::timeout);
  }
  sink.sync();  // the writer thread has written everything so far
  const std::string text = read_file(dir_ / "sessions" / "mail" / "3.json");
  const Json doc = Json::parse(text);
  std::vector<std::string> keys;
  for (auto it = doc.begin(); it != doc.end(); ++it) keys.push_back(it.key());
  // DESIGN.md: server, protocol, session, peer, local, started, ended, close and events; the
  // document is streamed, so what is known at the end comes after the events.
  EXPECT_EQ(keys, (std::vector<std::string>{"server", "protocol", "session", "peer", "local",
                                            "started", "events", "ended", "close"}));
  EXPECT_EQ(doc["server"], "mail");
  EXPECT_EQ(doc["protocol"], "smtp");
  EXPECT_EQ(doc["session"], 3);
  EXPECT_EQ(doc["peer"], "127.0.0.1:5000");
  EXPECT_EQ(doc["local"], "127.0.0.1:2525");
  const std::regex iso(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  EXPECT_TRUE(std::regex_match(doc["started"].get<std::string>(), iso)) << doc["started"];
  EXPECT_TRUE(std::regex_match(doc["ended"].get<std::string>(), iso)) << doc["ended"];
  EXPECT_LE(doc["started"].get<std::string>(), doc["ended"].get<std::string>());
  EXPECT_EQ(doc["close"], "timeout");
  const Json& ev = doc["events"];
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0]["event"], "open");
  EXPECT_EQ(ev[1]["rule"], "r");
  EXPECT_EQ(ev[2]["event"], "message");
  EXPECT_EQ(ev[3]["event"], "close");
  EXPECT_EQ(ev[3]["close"], "timeout");
  for (const auto& e : ev) {
    EXPECT_FALSE(e.contains("server")) << e;  // only events.jsonl lines name them
    EXPECT_FALSE(e.contains("session")) << e;
    EXPECT_TRUE(e.contains("t_ms")) << e;
    EXPECT_NE(e.contains("from"), e.contains("event")) << e;
  }
  // The session's events are the same as its events.jsonl lines, less server and session.
  std::vector<Json> from_jsonl;
  sink.sync();  // the writer thread has written everything so far
  for (const auto& line : read_lines(dir_ / "events.jsonl")) {
    Json e = Json::parse(line);
    e.erase("server");
    e.erase("session");
    from_jsonl.push_back(e);
  }
  EXPECT_EQ(Json(from_jsonl), ev);
}

TEST_F(RecorderTest, EventTimesGrowFromZero) {
  TranscriptSink sink(dir_);
  SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
  rec.event("a");
  rec.event("b");
  rec.finish(CloseReason::client);
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "s" / "1.json"));
  double last = 0;
  for (const auto& e : doc["events"]) {
    EXPECT_GE(e["t_ms"].get<double>(), last);
    last = e["t_ms"].get<double>();
  }
  EXPECT_LT(doc["events"][0]["t_ms"].get<double>(), 1000.0);
}

TEST_F(RecorderTest, EveryCloseReasonHasItsName) {
  EXPECT_STREQ(to_string(CloseReason::client), "client");
  EXPECT_STREQ(to_string(CloseReason::server), "server");
  EXPECT_STREQ(to_string(CloseReason::reset), "reset");
  EXPECT_STREQ(to_string(CloseReason::timeout), "timeout");
  EXPECT_STREQ(to_string(CloseReason::fault), "fault");
  EXPECT_STREQ(to_string(CloseReason::shutdown), "shutdown");
}

TEST_F(RecorderTest, FinishWritesOnceAndLaterEventsAreIgnored) {
  TranscriptSink sink(dir_);
  {
    SessionRecorder rec(sink, "s", "tcp", 1, "p", "l");
    rec.finish(CloseReason::client);
    EXPECT_TRUE(rec.finished());
    rec.client("late");
    rec.event("late");
    rec.finish(CloseReason::reset);
  }             // the destructor must not finish again either
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "s" / "1.json"));
  EXPECT_EQ(doc["close"], "client");
  EXPECT_EQ(doc["events"].size(), 2u);
  sink.sync();  // the writer thread has written everything so far
  EXPECT_EQ(read_lines(dir_ / "events.jsonl").size(), 2u);
}

TEST_F(RecorderTest, TheDestructorFinishesAnUnfinishedSession) {
  TranscriptSink sink(dir_);
  { SessionRecorder rec(sink, "s", "tcp", 4, "p", "l"); }
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "s" / "4.json"));
  EXPECT_EQ(doc["close"], "server");
}

TEST_F(RecorderTest, SessionFilesAreWrittenAtomically) {
  TranscriptSink sink(dir_);
  for (std::uint64_t n = 1; n <= 3; ++n) {
    SessionRecorder rec(sink, "s", "tcp", n, "p", "l");
    rec.client(std::string(100000, 'x'));
    rec.finish(CloseReason::client);
  }
  // Only whole documents, and no temporary file left behind.
  sink.sync();  // the writer thread has written everything so far
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_ / "sessions" / "s"))
    names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"1.json", "2.json", "3.json"}));
  for (const auto& name : names)
    EXPECT_NO_THROW(Json::parse(read_file(dir_ / "sessions" / "s" / name))) << name;
}

TEST_F(RecorderTest, ASessionWithNothingSaidIsStillValidJson) {
  TranscriptSink sink(dir_);
  { SessionRecorder rec(sink, "s", "tcp", 9, "p", "l"); }  // the destructor finishes it
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "s" / "9.json"));
  ASSERT_EQ(doc["events"].size(), 2u);
  EXPECT_EQ(doc["events"][0]["event"], "open");
  EXPECT_EQ(doc["events"][1]["event"], "close");
  EXPECT_FALSE(doc.contains("transport"));
}

TEST_F(RecorderTest, ChannelEventsSayTheirChannel) {
  TranscriptSink sink(dir_);
  {
    SessionRecorder rec(sink, "f", "ftp", 1, "p", "l");
    rec.client("RETR a\r\n");
    rec.server("hello", "data", Json{{"rule", "r"}});
    rec.event("data_close", "data", Json{{"bytes", 5}});
    rec.event("note", "", nullptr);
    rec.set_datagrams();
  }
  sink.sync();  // the writer thread has written everything so far
  const Json doc = Json::parse(read_file(dir_ / "sessions" / "f" / "1.json"));
  ASSERT_EQ(doc["events"].size(), 6u);
  EXPECT_FALSE(doc["events"][1].contains("channel"));
  EXPECT_EQ(doc["events"][2]["channel"], "data");
  EXPECT_EQ(doc["events"][2]["rule"], "r");
  EXPECT_EQ(doc["events"][3]["channel"], "data");
  EXPECT_EQ(doc["events"][3]["bytes"], 5);
  EXPECT_FALSE(doc["events"][4].contains("channel"));
  EXPECT_EQ(doc["transport"], "datagram");
}

TEST_F(RecorderTest, SaveFilePathsAreRelativeToTheDirectory) {
  TranscriptSink sink(dir_);
  SessionRecorder rec(sink, "mail", "smtp", 2, "p", "l");
  const std::string rel = rec.save_file("1.eml", "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(rel, "files/mail/2/1.eml");
  EXPECT_EQ(read_file(dir_ / rel), "Subject: x\r\n\r\nbody\r\n");
  EXPECT_EQ(sink.save_file("ftp", 1, "upload.bin", "\x00\xff"s), "files/ftp/1/upload.bin");
  EXPECT_EQ(read_file(dir_ / "files/ftp/1/upload.bin"), "\x00\xff"s);
  EXPECT_FALSE(fs::exists(dir_ / "files/ftp/1/upload.bin.tmp"));
}

TEST_F(RecorderTest, SaveFileAsyncSavesOnTheWriterInOrderAndTellsThePath) {
  TranscriptSink sink(dir_);
  SessionRecorder rec(sink, "mail", "smtp", 3, "p", "l");
  std::mutex m;
  std::vector<std::string> told;
  const auto tell = [&](std::string path) {
    std::lock_guard lock(m);
    told.push_back(std::move(path));
  };
  rec.save_file_async("1.eml", "one", tell);
  rec.save_file_async("../2.eml", "two", tell);  // a client's name: kept in the folder
  sink.sync();
  std::lock_guard lock(m);
  ASSERT_EQ(told, (std::vector<std::string>{"files/mail/3/1.eml", "files/mail/3/2.eml"}));
  EXPECT_EQ(read_file(dir_ / told[0]), "one");
  EXPECT_EQ(read_file(dir_ / told[1]), "two");
  EXPECT_FALSE(fs::exists(dir_ / "files/mail/3/1.eml.tmp"));

  // Not recording: told "" at once, on the caller's thread.
  TranscriptSink off;
  SessionRecorder quiet(off, "mail", "smtp", 1, "p", "l");
  std::optional<std::string> got;
  quiet.save_file_async("1.eml", "x", [&](std::string path) { got = std::move(path); });
  EXPECT_EQ(got, "");
}

TEST_F(RecorderTest, SaveFileKeepsNamesInsideTheSessionFolder) {
  // File names can come from clients (an FTP STOR, a multipart upload): they must not climb
  // out of DIR/files/<server>/<n>/.
  TranscriptSink sink(dir_ / "t");
  for (const char* name : {"../../../escape", "/etc/escape", "a/../../escape", "..", ""}) {
    const std::string rel = sink.save_file("ftp", 1, name, "x");
    if (rel.empty()) continue;  // refusing is fine too
    const fs::path full = fs::weakly_canonical(dir_ / "t" / rel);
    const fs::path folder = fs::weakly_canonical(dir_ / "t" / "files" / "ftp" / "1");
    EXPECT_EQ(full.parent_path(), folder) << name << " -> " << rel;
  }
  EXPECT_FALSE(fs::exists(dir_ / "escape"));
  EXPECT_FALSE(fs::exists(dir_ / "t" / "escape"));
  EXPECT_FALSE(fs::exists(dir_ / "t" / "files" / "escape"));
}

TEST(Iso8601, FormatsUtcWithMilliseconds) {
  using namespace std::chrono;
  const system_clock::time_point t =
      system_clock::time_point(seconds(1767225600)) + milliseconds(123);
  EXPECT_EQ(iso8601(t), "2026-01-01T00:00:00.123Z");
  EXPECT_EQ(iso8601(system_clock::time_point(seconds(0))), "1970-01-01T00:00:00.000Z");
}

}  // namespace
}  // namespace protofarm
