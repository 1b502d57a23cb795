// Faults and shaping: how a write is put on the wire, and the connection-level faults of a
// server's `faults:` section (scenarios/README.md, "Faults"). One small header, shared by the
// rule engine (a rule's pace/fragment/gap), the connection (every read and write), the
// listeners (refuse, silence) and the scenario loader, so each of them parses and applies the
// same thing.
#pragma once

#include <cstdint>
#include <optional>

#include "fakes/common/config.hpp"

namespace protofarm {

// How a write is put on the wire.
struct Shaping {
  std::optional<double> pace;  // bytes per second
  std::size_t fragment = 0;    // write N bytes at a time, each write separate
  Duration gap{5000};          // pause between fragments (5ms unless `gap:` says otherwise)
  bool any() const { return pace.has_value() || fragment > 0; }
};

// Faults chosen for one connection from the server's `faults:` section.
struct ConnectionFaults {
  std::optional<std::uint64_t> reset_after_sent;
  std::optional<std::uint64_t> reset_after_received;
  Shaping shaping;      // for every write that has no shaping of its own
  Duration latency{0};  // before every write
};

// The server-level `faults:` section.
struct FaultConfig {
  bool refuse = false;   // accept, then reset at once
  bool silence = false;  // accept, never answer, record what the client sends
  ConnectionFaults connection;
  std::optional<std::uint64_t> times;  // only the first N sessions (after `after`)
  std::uint64_t after = 0;             // only after the first N sessions
  bool applies_to(std::uint64_t session) const {
    return session > after && (!times || session <= after + *times);
  }
};

// Parses the shaping keys (pace, fragment, gap) of a rule, a step or a fault section.
Shaping parse_shaping(const Cfg& cfg);
// Parses a server's `faults:` section; nothing when it is absent. Errors go to cfg.errors().
std::optional<FaultConfig> parse_faults(const Cfg& cfg);

}  // namespace protofarm
