// Line diffs for `protofarm verify`: aligning expected lines (exact or regex) with recorded ones
// and rendering the result for a person. Pure functions, no I/O.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace protofarm {

struct DiffStep {
  enum class Kind { same, expected_only, recorded_only } kind;
  std::size_t expected = 0;  // index into the expected sequence (same, expected_only)
  std::size_t recorded = 0;  // index into the recorded sequence (same, recorded_only)
};

// A shortest edit script between an expected sequence of n items and a recorded one of m items,
// where equal(i, j) says whether expected item i accepts recorded item j (it need not be an
// equivalence: a regex item accepts many lines). The common head and tail are matched first;
// what remains is aligned by longest common subsequence, or, when that would be too large to
// compute (over kMaxDiffCells), by pairing items position by position.
std::vector<DiffStep> diff_sequences(std::size_t n, std::size_t m,
                                     const std::function<bool(std::size_t, std::size_t)>& equal);
inline constexpr std::size_t kMaxDiffCells = 4'000'000;

// One row of a rendered diff.
struct DiffRow {
  enum class Mark { same, expected_only, recorded_only, ignored } mark;
  std::string text;          // already escaped for display
  std::size_t recorded = 0;  // 1-based recorded line number, 0 for expected-only rows
};

// Renders rows, one a line: a right-aligned recorded line number, then a marker ("  " same,
// "- " expected only, "+ " recorded only, "~ " ignored) and the text, every line starting with
// `indent`. The first changed row is pointed out. Long runs of unchanged rows are cut to
// `context` rows around each change (with a "... N lines ..." row) when there are more than
// `max_rows` rows in all.
std::string render_rows(const std::vector<DiffRow>& rows, const std::string& indent,
                        std::size_t context = 3, std::size_t max_rows = 40);

}  // namespace protofarm
