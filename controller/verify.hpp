// `protofarm verify`: checks recorded transcripts against a scenario's `expect:` section.
#pragma once

#include <optional>
#include <string>

namespace protofarm {

struct VerifyOptions {
  std::string scenario;
  std::string transcripts;
  std::optional<std::string> junit;  // write a JUnit XML report here
};

// Returns the exit status: 0 all expectations hold, 1 some do not (a readable diff is printed),
// 2 bad scenario or usage.
int run_verify(const VerifyOptions& options);

}  // namespace protofarm
