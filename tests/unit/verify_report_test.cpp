// verify's text report and JUnit XML.
#include <gtest/gtest.h>

#include "controller/verify.hpp"

namespace protofarm {
namespace {

VerifyReport sample() {
  VerifyReport r;
  r.scenario_name = "greylisting";
  r.scenario_file = "scenarios/greylisting.yaml";
  r.transcripts = "/tmp/t";
  r.timestamp = "2026-01-01T00:00:00.000Z";
  ServerResult ok{"pop", 1, {{"sessions", "count", true, "expected 1, recorded 1", ""}}};
  ServerResult bad{"mail", 1, {}};
  bad.checks.push_back({"sessions", "count", false, "expected 2, recorded 1", ""});
  bad.checks.push_back({"session 1", "client", false,
                        "first difference at line 1: expected \"<a&b>\", recorded \"x\"",
                        "      1 + x\x01 \"quoted\" 'single'\n"});
  r.servers = {ok, bad};
  return r;
}

TEST(VerifyReport, TextNamesServersAndChecks) {
  const std::string text = render_report(sample());
  EXPECT_NE(text.find("ok    pop: 1 session, 1 check passed"), std::string::npos) << text;
  EXPECT_NE(text.find("FAIL  mail: 2 of 2 checks failed (1 session)"), std::string::npos) << text;
  EXPECT_NE(text.find("  sessions: expected 2, recorded 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  session 1 client: first difference"), std::string::npos) << text;
  EXPECT_NE(text.find("1 of 2 servers did not meet expectations"), std::string::npos) << text;
}

TEST(VerifyReport, CheckLabels) {
  EXPECT_EQ(check_label({"sessions", "count", true, "", ""}), "sessions");
  EXPECT_EQ(check_label({"all sessions", "client", true, "", ""}), "client");
  EXPECT_EQ(check_label({"session 2", "close", true, "", ""}), "session 2 close");
}

TEST(VerifyJunit, XmlEscape) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
  EXPECT_EQ(xml_escape("tab\tnl\ncr\r"), "tab\tnl\ncr\r");
  EXPECT_EQ(xml_escape(std::string("\x01\x7f", 2)), "\\x01\\x7f");
  EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");  // valid UTF-8 stays
  EXPECT_EQ(xml_escape("\xff"), "\\xff");
}

TEST(VerifyJunit, OneSuiteOneCasePerServer) {
  const std::string xml = render_junit(sample());
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", 0), 0u);
  EXPECT_NE(xml.find("<testsuites name=\"protofarm verify\" tests=\"2\" failures=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testsuite name=\"greylisting\" tests=\"2\" failures=\"1\""),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase name=\"pop\" classname=\"greylisting\""), std::string::npos);
  EXPECT_NE(xml.find("<testcase name=\"mail\" classname=\"greylisting\""), std::string::npos);
  EXPECT_NE(xml.find("<failure type=\"verify\" message=\"2 of 2 checks failed; first: sessions: "
                     "expected 2, recorded 1\">"),
            std::string::npos)
      << xml;
  EXPECT_NE(xml.find("expected &quot;&lt;a&amp;b&gt;&quot;"), std::string::npos) << xml;
  EXPECT_NE(xml.find("x\\x01 &quot;quoted&quot; &apos;single&apos;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
  // Exactly one failure element: the passing server has none.
  EXPECT_EQ(xml.find("<failure"), xml.rfind("<failure"));
}

}  // namespace
}  // namespace protofarm
