// The udp fake: rules on datagrams, over UDP (IPv4, IPv6) or a Unix datagram socket.
// See scenarios/README.md#udp for the keys and fakes/udp/udp_rules.hpp for how a datagram is
// answered.
//
// Sessions: every peer address is one session, numbered in order of each peer's first
// datagram (Server::next_session()), with its own transcript. A peer's session ends after
// the idle timeout without a datagram either way (close reason `timeout`), when a rule says
// `then: close` (`server`), or at farm shutdown (`shutdown`); the peer's next datagram then
// starts a new session. Every datagram is recorded as one client or server event.
//
// Delayed answers are spawned (one coroutine per answer with its own timer), so one peer's
// delay never holds up another peer, nor the same peer's later datagrams: like a real
// network, a delayed answer can arrive after the answer to a later datagram.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/udp/schema.json, built into the program (CMakeLists.txt).
std::string_view udp_schema_fragment();
}  // namespace protofarm

namespace protofarm::udp {

FakeFactory factory();

}  // namespace protofarm::udp
