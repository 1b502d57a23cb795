#include "fakes/common/faults.hpp"

#include <algorithm>

namespace protofarm {

Shaping parse_shaping(const Cfg& cfg) {
  Shaping s;
  if (cfg.has("pace")) {
    const Cfg pace = cfg["pace"];
    if (auto rate = parse_rate(pace.str()))
      s.pace = *rate;
    else
      pace.error("expected a rate like 10B/s, 2KiB/s or 1MB/s, got '" + pace.str() + "'");
  }
  if (cfg.has("fragment")) {
    const auto n = cfg["fragment"].integer(0);
    if (n < 1)
      cfg["fragment"].error("expected a number of bytes of at least 1");
    else
      s.fragment = static_cast<std::size_t>(n);
  }
  if (cfg.has("gap")) s.gap = cfg["gap"].duration(s.gap);
  if (s.pace && s.fragment) cfg.error("use either pace or fragment, not both");
  return s;
}

std::optional<FaultConfig> parse_faults(const Cfg& cfg) {
  if (!cfg.defined()) return std::nullopt;
  FaultConfig f;
  f.refuse = cfg.bool_or("refuse", false);
  f.silence = cfg.bool_or("silence", false);
  if (f.refuse && f.silence) cfg.error("refuse and silence cannot both apply to a session");
  if (cfg.has("reset_after")) {
    const Cfg r = cfg["reset_after"];
    if (r.is_map()) {
      if (r.has("sent")) f.connection.reset_after_sent = r["sent"].size_bytes();
      if (r.has("received")) f.connection.reset_after_received = r["received"].size_bytes();
      if (!r.has("sent") && !r.has("received")) r.error("expected sent or received");
    } else {
      f.connection.reset_after_sent = r.size_bytes();
    }
  }
  f.connection.shaping = parse_shaping(cfg);
  f.connection.latency = cfg.duration_or("latency", Duration{0});
  if (cfg.has("times"))
    f.times = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg["times"].integer()));
  if (cfg.has("after"))
    f.after = static_cast<std::uint64_t>(std::max<std::int64_t>(0, cfg["after"].integer()));
  return f;
}

}  // namespace protofarm
