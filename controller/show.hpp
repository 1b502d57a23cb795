// `protofarm show`: prints recorded conversations for a person to read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace protofarm {

struct ShowOptions {
  std::string transcripts;
  std::optional<std::string> server;
  std::optional<std::uint64_t> session;
  std::string color = "auto";  // auto, always, never
};

// Returns the exit status: 0, or 2 when the directory holds no transcripts.
int run_show(const ShowOptions& options);

}  // namespace protofarm
