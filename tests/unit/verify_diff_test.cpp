// The line diff behind verify's readable output.
#include <gtest/gtest.h>

#include "controller/transcript_diff.hpp"

namespace protofarm {
namespace {

using Kind = DiffStep::Kind;

std::string script(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  for (const auto& s : diff_sequences(a.size(), b.size(),
                                      [&](std::size_t i, std::size_t j) { return a[i] == b[j]; })) {
    switch (s.kind) {
      case Kind::same:
        out += " " + a[s.expected];
        break;
      case Kind::expected_only:
        out += " -" + a[s.expected];
        break;
      case Kind::recorded_only:
        out += " +" + b[s.recorded];
        break;
    }
  }
  return out;
}

TEST(VerifyDiff, EqualAndEmpty) {
  EXPECT_EQ(script({"a", "b"}, {"a", "b"}), " a b");
  EXPECT_EQ(script({}, {}), "");
  EXPECT_EQ(script({"a"}, {}), " -a");
  EXPECT_EQ(script({}, {"a"}), " +a");
}

TEST(VerifyDiff, ChangeInsertDelete) {
  EXPECT_EQ(script({"a", "b", "c"}, {"a", "x", "c"}), " a -b +x c");
  EXPECT_EQ(script({"a", "c"}, {"a", "b", "c"}), " a +b c");
  EXPECT_EQ(script({"a", "b", "c"}, {"a", "c"}), " a -b c");
  EXPECT_EQ(script({"a", "b", "c", "d"}, {"b", "c", "d", "e"}), " -a b c d +e");
}

TEST(VerifyDiff, LargeInputsFallBackToPositions) {
  std::vector<std::string> a(3000, "x"), b(3000, "y");
  const auto steps = diff_sequences(a.size(), b.size(),
                                    [&](std::size_t i, std::size_t j) { return a[i] == b[j]; });
  EXPECT_EQ(steps.size(), 6000u);
}

TEST(VerifyRenderRows, MarkersNumbersAndPointer) {
  const std::vector<DiffRow> rows = {{DiffRow::Mark::same, "HELO a", 1},
                                     {DiffRow::Mark::ignored, "NOOP", 2},
                                     {DiffRow::Mark::expected_only, "MAIL", 0},
                                     {DiffRow::Mark::recorded_only, "RCPT", 3}};
  EXPECT_EQ(render_rows(rows, "  "),
            "    1   HELO a\n"
            "    2 ~ NOOP\n"
            "      - MAIL    <-- first difference\n"
            "    3 + RCPT\n");
}

TEST(VerifyRenderRows, LongRunsAreCut) {
  std::vector<DiffRow> rows;
  for (std::size_t i = 1; i <= 100; ++i) rows.push_back({DiffRow::Mark::same, "l", i});
  rows[49].mark = DiffRow::Mark::recorded_only;
  const std::string out = render_rows(rows, "", 2, 40);
  EXPECT_NE(out.find("... 47 lines ..."), std::string::npos) << out;
  EXPECT_NE(out.find("... 48 lines ..."), std::string::npos) << out;
  EXPECT_NE(out.find(" 50 + l    <-- first difference"), std::string::npos) << out;
}

}  // namespace
}  // namespace protofarm
