#include "fakes/common/config.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <sstream>

namespace protofarm {

std::string ConfigError::format() const {
  std::ostringstream out;
  out << (file.empty() ? "<scenario>" : file);
  if (line > 0) out << ':' << line << ':' << column;
  out << ": error: " << message;
  return out.str();
}

void ConfigErrors::add(const YAML::Mark& mark, std::string message) {
  ConfigError e;
  e.file = file_;
  if (mark.line >= 0) {
    e.line = mark.line + 1;
    e.column = mark.column + 1;
  }
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::add_plain(std::string message) {
  ConfigError e;
  e.file = file_;
  e.message = std::move(message);
  errors_.push_back(std::move(e));
}

void ConfigErrors::merge(const ConfigErrors& other) {
  errors_.insert(errors_.end(), other.errors_.begin(), other.errors_.end());
}

std::vector<ConfigError> ConfigErrors::reported() const {
  std::vector<ConfigError> sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigError& a, const ConfigError& b) {
    if (a.file != b.file) return a.file < b.file;
    if (a.line != b.line) return a.line < b.line;
    return a.column < b.column;
  });
  // The schema check and the decoding after it can find the same problem: report the first
  // (the schema's) once per position.
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const ConfigError& a, const ConfigError& b) {
                             return a.file == b.file && a.line == b.line && a.line > 0 &&
                                    a.column == b.column;
                           }),
               sorted.end());
  return sorted;
}

std::string ConfigErrors::format() const {
  std::string out;
  for (const auto& e : reported()) out += e.format() + "\n";
  return out;
}

ScenarioError::ScenarioError(ConfigErrors errors)
    : std::runtime_error(errors.format()), errors_(std::move(errors)) {}

namespace {

// Case-insensitive optimal string alignment distance: insertions, deletions, substitutions
// and swaps of two neighbouring letters ("tiems" for "times") each count as one edit.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto same = [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) ==
           std::tolower(static_cast<unsigned char>(y));
  };
  std::vector<std::size_t> before(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] =
          std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same(a[i - 1], b[j - 1]) ? 0 : 1)});
      if (i > 1 && j > 1 && same(a[i - 1], b[j - 2]) && same(a[i - 2], b[j - 1]))
        cur[j] = std::min(cur[j], before[j - 2] + 1);
    }
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string closest_match(std::string_view word, const std::vector<std::string>& options) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& option : options) {
    const std::size_t d = edit_distance(word, option);
    if (d < best_distance) {
      best_distance = d;
      best = option;
    }
  }
  // Near misses only: a typo or two, not a different word.
  const std::size_t allowed = std::max<std::size_t>(1, std::min<std::size_t>(3, word.size() / 3));
  return best_distance <= allowed ? best : std::string{};
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& options) {
  const std::string best = closest_match(word, options);
  return best.empty() ? std::string{} : "; did you mean '" + best + "'?";
}

namespace {

// Splits "1.5KiB" into 1.5 and "KiB". Returns false when there is no leading number.
bool split_number(std::string_view text, double& number, std::string_view& unit) {
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  if (i == 0) return false;
  const std::string digits(text.substr(0, i));
  if (std::count(digits.begin(), digits.end(), '.') > 1 || digits.front() == '.' ||
      digits.back() == '.')
    return false;
  number = std::strtod(digits.c_str(), nullptr);
  unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  return std::isfinite(number);
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  double us = 0;
  if (unit.empty() || unit == "ms")
    us = n * 1e3;
  else if (unit == "us")
    us = n;
  else if (unit == "s")
    us = n * 1e6;
  else if (unit == "m" || unit == "min")
    us = n * 60e6;
  else if (unit == "h")
    us = n * 3600e6;
  else
    return std::nullopt;
  if (us > 1e15) return std::nullopt;
  return Duration{static_cast<std::int64_t>(std::llround(us))};
}

namespace {

std::optional<double> unit_multiplier(std::string_view unit) {
  if (unit == "B" || unit.empty()) return 1.0;
  if (unit == "kB" || unit == "KB") return 1e3;
  if (unit == "KiB") return 1024.0;
  if (unit == "MB") return 1e6;
  if (unit == "MiB") return 1024.0 * 1024.0;
  if (unit == "GB") return 1e9;
  if (unit == "GiB") return 1024.0 * 1024.0 * 1024.0;
  return std::nullopt;
}

}  // namespace

std::optional<double> parse_rate(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  if (unit.size() < 2 || unit.substr(unit.size() - 2) != "/s") return std::nullopt;
  const auto mult = unit_multiplier(unit.substr(0, unit.size() - 2));
  if (!mult || n <= 0) return std::nullopt;
  return n * *mult;
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  double n = 0;
  std::string_view unit;
  if (!split_number(text, n, unit)) return std::nullopt;
  const auto mult = unit_multiplier(unit);
  if (!mult) return std::nullopt;
  const double bytes = n * *mult;
  if (bytes > 1e18) return std::nullopt;
  return static_cast<std::uint64_t>(std::llround(bytes));
}

std::string format_duration(Duration d) {
  const auto us = d.count();
  if (us % 1000000 == 0) return std::to_string(us / 1000000) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

Cfg::Cfg(const YAML::Node& node, std::string path, ConfigErrors* errors, YAML::Mark fallback_mark)
    : path_(std::move(path)), errors_(errors), mark_(fallback_mark) {
  // yaml-cpp throws on any use of a node looked up under a missing key: keep a plain
  // Undefined node instead, located at the parent.
  if (node.IsDefined()) {
    node_ = node;  // a handle: YAML::Node has no move, a copy shares the node
    mark_ = node_.Mark();
  } else {
    node_ = YAML::Node(YAML::NodeType::Undefined);
  }
}

bool Cfg::has(std::string_view key) const {
  const YAML::Node& self = node_;
  return self.IsMap() && self[std::string(key)].IsDefined();
}

Cfg Cfg::operator[](std::string_view key) const {
  const std::string k(key);
  const YAML::Node& self = node_;
  YAML::Node child = self.IsMap() ? self[k] : YAML::Node(YAML::NodeType::Undefined);
  return Cfg(child, path_.empty() ? k : path_ + "." + k, errors_, mark_);
}

Cfg Cfg::at(std::size_t index) const {
  const YAML::Node& self = node_;
  YAML::Node child = self.IsSequence() && index < self.size()
                         ? self[index]
                         : YAML::Node(YAML::NodeType::Undefined);
  return Cfg(child, path_ + "[" + std::to_string(index) + "]", errors_, mark_);
}

void Cfg::for_each_entry(const std::function<void(const std::string&, const Cfg&)>& fn) const {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    const std::string key = kv.first.Scalar();
    Cfg value(kv.second, path_.empty() ? key : path_ + "." + key, errors_, kv.first.Mark());
    value.key_mark_ = kv.first.Mark();
    fn(key, value);
  }
}

void Cfg::for_each_item(const std::function<void(const Cfg&)>& fn) const {
  if (!node_.IsSequence()) return;
  for (std::size_t i = 0; i < node_.size(); ++i) fn(at(i));
}

void Cfg::error(const std::string& message) const {
  if (!errors_) return;
  errors_->add(mark_, path_.empty() ? message : path_ + ": " + message);
}

std::string Cfg::str(std::string fallback) const {
  if (!defined()) return fallback;
  if (!node_.IsScalar()) {
    error("expected a string");
    return fallback;
  }
  return node_.Scalar();
}

std::int64_t Cfg::integer(std::int64_t fallback) const {
  if (!defined()) return fallback;
  if (node_.IsScalar()) {
    const std::string& s = node_.Scalar();
    std::int64_t v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc{} && p == s.data() + s.size()) return v;
  }
  error("expected an integer, got '" + (node_.IsScalar() ? node_.Scalar() : "a collection") + "'");
  return fallback;
}

bool Cfg::boolean(bool fallback) const {
  if (!defined()) return fallback;
  if (node_.IsScalar()) {
    const std::string& s = node_.Scalar();
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
  }
  error("expected true or false");
  return fallback;
}

Duration Cfg::duration(Duration fallback) const {
  if (!defined()) return fallback;
  if (node_.IsScalar()) {
    if (auto d = parse_duration(node_.Scalar())) return *d;
  }
  error("expected a duration like 250ms, 2s or 1m, got '" +
        (node_.IsScalar() ? node_.Scalar() : "a collection") + "'");
  return fallback;
}

std::uint64_t Cfg::size_bytes(std::uint64_t fallback) const {
  if (!defined()) return fallback;
  if (node_.IsScalar()) {
    if (auto s = parse_size(node_.Scalar())) return *s;
  }
  error("expected a size like 512, 64KiB or 1MiB, got '" +
        (node_.IsScalar() ? node_.Scalar() : "a collection") + "'");
  return fallback;
}

std::vector<std::string> Cfg::str_list() const {
  std::vector<std::string> out;
  if (!defined()) return out;
  if (node_.IsScalar()) {
    out.push_back(node_.Scalar());
  } else if (node_.IsSequence()) {
    for_each_item([&](const Cfg& item) { out.push_back(item.str()); });
  } else {
    error("expected a string or a list of strings");
  }
  return out;
}

std::string Cfg::str_or(std::string_view key, std::string fallback) const {
  return (*this)[key].str(std::move(fallback));
}
std::int64_t Cfg::int_or(std::string_view key, std::int64_t fallback) const {
  return (*this)[key].integer(fallback);
}
bool Cfg::bool_or(std::string_view key, bool fallback) const {
  return (*this)[key].boolean(fallback);
}
Duration Cfg::duration_or(std::string_view key, Duration fallback) const {
  return (*this)[key].duration(fallback);
}

}  // namespace protofarm
