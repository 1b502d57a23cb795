#include "controller/transcript_diff.hpp"

#include <algorithm>
#include <cstdint>

namespace protofarm {

std::vector<DiffStep> diff_sequences(std::size_t n, std::size_t m,
                                     const std::function<bool(std::size_t, std::size_t)>& equal) {
  using Kind = DiffStep::Kind;
  std::vector<DiffStep> head, tail, middle;
  std::size_t i0 = 0, j0 = 0;
  while (i0 < n && j0 < m && equal(i0, j0)) {
    head.push_back({Kind::same, i0, j0});
    ++i0;
    ++j0;
  }
  std::size_t i1 = n, j1 = m;  // exclusive ends of the middle part
  while (i1 > i0 && j1 > j0 && equal(i1 - 1, j1 - 1)) {
    --i1;
    --j1;
    tail.push_back({Kind::same, i1, j1});
  }
  std::reverse(tail.begin(), tail.end());

  const std::size_t a = i1 - i0, b = j1 - j0;
  if (a > 0 && b > 0 && (a + 1) * (b + 1) <= kMaxDiffCells) {
    // lcs[i][j]: length of the longest common subsequence of expected[i..] and recorded[j..].
    const std::size_t w = b + 1;
    std::vector<std::uint32_t> lcs((a + 1) * w, 0);
    std::vector<std::uint8_t> eq(a * b, 0);
    for (std::size_t i = a; i-- > 0;)
      for (std::size_t j = b; j-- > 0;) {
        eq[i * b + j] = equal(i0 + i, j0 + j) ? 1 : 0;
        lcs[i * w + j] = eq[i * b + j] ? lcs[(i + 1) * w + j + 1] + 1
                                       : std::max(lcs[(i + 1) * w + j], lcs[i * w + j + 1]);
      }
    std::size_t i = 0, j = 0;
    while (i < a || j < b) {
      if (i < a && j < b && eq[i * b + j] && lcs[i * w + j] == lcs[(i + 1) * w + j + 1] + 1) {
        middle.push_back({Kind::same, i0 + i, j0 + j});
        ++i;
        ++j;
      } else if (i < a && (j == b || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
        middle.push_back({Kind::expected_only, i0 + i, 0});
        ++i;
      } else {
        middle.push_back({Kind::recorded_only, 0, j0 + j});
        ++j;
      }
    }
  } else {
    // Too large to align (or one side is empty): pair items position by position.
    const std::size_t k = std::min(a, b);
    for (std::size_t d = 0; d < k; ++d) {
      if (equal(i0 + d, j0 + d)) {
        middle.push_back({Kind::same, i0 + d, j0 + d});
      } else {
        middle.push_back({Kind::expected_only, i0 + d, 0});
        middle.push_back({Kind::recorded_only, 0, j0 + d});
      }
    }
    for (std::size_t d = k; d < a; ++d) middle.push_back({Kind::expected_only, i0 + d, 0});
    for (std::size_t d = k; d < b; ++d) middle.push_back({Kind::recorded_only, 0, j0 + d});
  }

  std::vector<DiffStep> out = std::move(head);
  out.insert(out.end(), middle.begin(), middle.end());
  out.insert(out.end(), tail.begin(), tail.end());
  return out;
}

namespace {

bool is_change(const DiffRow& r) {
  return r.mark == DiffRow::Mark::expected_only || r.mark == DiffRow::Mark::recorded_only;
}

const char* marker(DiffRow::Mark m) {
  switch (m) {
    case DiffRow::Mark::same:
      return "  ";
    case DiffRow::Mark::expected_only:
      return "- ";
    case DiffRow::Mark::recorded_only:
      return "+ ";
    case DiffRow::Mark::ignored:
      return "~ ";
  }
  return "  ";
}

}  // namespace

std::string render_rows(const std::vector<DiffRow>& rows, const std::string& indent,
                        std::size_t context, std::size_t max_rows) {
  std::size_t width = 3;
  for (const auto& r : rows) width = std::max(width, std::to_string(r.recorded).size());

  std::vector<bool> keep(rows.size(), true);
  if (rows.size() > max_rows) {
    std::vector<bool> near(rows.size(), false);
    bool any_change = false;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (!is_change(rows[i])) continue;
      any_change = true;
      const std::size_t from = i >= context ? i - context : 0;
      const std::size_t to = std::min(rows.size(), i + context + 1);
      for (std::size_t k = from; k < to; ++k) near[k] = true;
    }
    if (any_change)
      keep = near;
    else
      for (std::size_t i = max_rows; i < rows.size(); ++i) keep[i] = false;
  }

  const auto first_change =
      std::find_if(rows.begin(), rows.end(), [](const DiffRow& r) { return is_change(r); });
  std::string out;
  std::size_t skipped = 0;
  auto flush_skipped = [&] {
    if (!skipped) return;
    out += indent + std::string(width, ' ') + "   ... " + std::to_string(skipped) +
           (skipped == 1 ? " line" : " lines") + " ...\n";
    skipped = 0;
  };
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (!keep[i]) {
      ++skipped;
      continue;
    }
    flush_skipped();
    const DiffRow& r = rows[i];
    std::string number = r.recorded ? std::to_string(r.recorded) : "";
    out +=
        indent + std::string(width - number.size(), ' ') + number + " " + marker(r.mark) + r.text;
    if (first_change != rows.end() && &*first_change == &r) out += "    <-- first difference";
    out += "\n";
  }
  flush_skipped();
  return out;
}

}  // namespace protofarm
