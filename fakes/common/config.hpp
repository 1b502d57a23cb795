// Located configuration values and error collection for scenario files.
//
// Scenario loading never stops at the first problem: every check adds a ConfigError (file, line,
// column, message) to a ConfigErrors list and goes on, so `protofarm validate` reports all of them.
// Cfg is a view of one YAML node plus the path that leads to it; its typed getters report a wrong
// value as an error at the node's own line and column and return a fallback instead of throwing.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm {

using Duration = std::chrono::microseconds;

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string message;

  std::string format() const;  // "file:line:column: error: message"
};

class ConfigErrors {
 public:
  explicit ConfigErrors(std::string file = {}) : file_(std::move(file)) {}

  void add(const YAML::Mark& mark, std::string message);
  void add_plain(std::string message);  // no position (e.g. a file that cannot be read)
  void merge(const ConfigErrors& other);

  bool empty() const { return errors_.empty(); }
  // How many distinct problems format() reports.
  std::size_t size() const { return reported().size(); }
  const std::vector<ConfigError>& list() const { return errors_; }
  const std::string& file() const { return file_; }
  std::string format() const;  // one line per error, sorted by position
  // Sorted by position, one per position (the schema check and decoding may both find one).
  std::vector<ConfigError> reported() const;

 private:
  std::string file_;
  std::vector<ConfigError> errors_;
};

// Thrown by start-up code when a scenario is bad; carries every error found.
class ScenarioError : public std::runtime_error {
 public:
  explicit ScenarioError(ConfigErrors errors);
  const ConfigErrors& errors() const { return errors_; }

 private:
  ConfigErrors errors_;
};

// The closest of `options` to `word` (case-insensitive edit distance), or "" when none is close.
std::string closest_match(std::string_view word, const std::vector<std::string>& options);
// "; did you mean 'x'?" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& options);

// "250ms", "2s", "1.5s", "100us", "1m", "1h", or a plain integer of milliseconds.
std::optional<Duration> parse_duration(std::string_view text);
// "10B/s", "1.5KiB/s", "2kB/s", "1MB/s", "3MiB/s" -> bytes per second.
std::optional<double> parse_rate(std::string_view text);
// "512", "64KiB", "1MiB", "2kB" -> bytes.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::string format_duration(Duration d);

// A located YAML value. Copying is cheap (YAML::Node is a handle).
class Cfg {
 public:
  Cfg(const YAML::Node& node, std::string path, ConfigErrors* errors,
      YAML::Mark fallback_mark = YAML::Mark::null_mark());

  bool defined() const { return node_.IsDefined() && !node_.IsNull(); }
  bool is_map() const { return node_.IsMap(); }
  bool is_seq() const { return node_.IsSequence(); }
  bool is_scalar() const { return node_.IsScalar(); }
  bool has(std::string_view key) const;
  Cfg operator[](std::string_view key) const;  // undefined Cfg when missing
  Cfg at(std::size_t index) const;
  std::size_t size() const { return node_.size(); }
  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  // Where the value is; for a missing key, where its parent is.
  YAML::Mark mark() const { return mark_; }
  // For a value reached through for_each_entry: where its key is.
  YAML::Mark key_mark() const { return key_mark_; }
  ConfigErrors& errors() const { return *errors_; }

  // Each calls fn(key, value) for a map, in file order.
  void for_each_entry(const std::function<void(const std::string&, const Cfg&)>& fn) const;
  void for_each_item(const std::function<void(const Cfg&)>& fn) const;

  // Typed reads: on a wrong type they record an error here and return the fallback.
  std::string str(std::string fallback = {}) const;
  std::int64_t integer(std::int64_t fallback = 0) const;
  bool boolean(bool fallback = false) const;
  Duration duration(Duration fallback = Duration{0}) const;
  std::uint64_t size_bytes(std::uint64_t fallback = 0) const;
  // A string or a list of strings.
  std::vector<std::string> str_list() const;

  // Shorthands for an optional key of a map.
  std::string str_or(std::string_view key, std::string fallback) const;
  std::int64_t int_or(std::string_view key, std::int64_t fallback) const;
  bool bool_or(std::string_view key, bool fallback) const;
  Duration duration_or(std::string_view key, Duration fallback) const;

  void error(const std::string& message) const;  // "<path>: message" at this node

 private:
  YAML::Node node_;  // always valid: a missing key is an Undefined node
  std::string path_;
  ConfigErrors* errors_;
  YAML::Mark mark_;
  YAML::Mark key_mark_ = YAML::Mark::null_mark();
};

}  // namespace protofarm
