// The pop3 fake (RFC 1939, with CAPA from RFC 2449, STLS from RFC 2595 and SASL AUTH from
// RFC 5034): mailboxes per user from the scenario (inline messages or .eml files), USER/PASS,
// APOP, AUTH PLAIN and LOGIN, UIDL, TOP, and the UPDATE state that makes a deletion last for
// the rest of the run. With `deliveries_from`, mail accepted by an smtp fake of the same
// scenario lands in the recipients' mailboxes. See scenarios/README.md#pop3.
//
// Layout: pop3_codec (bytes <-> commands and replies, pure), mail_store (the maildrops),
// pop3_protocol (the per-session state machine, pure), pop3_config (scenario keys), and
// pop3_fake.cpp (the session: reading, rules, TLS, transcript).
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/pop3/schema.json, built into the program (CMakeLists.txt).
std::string_view pop3_schema_fragment();
}  // namespace protofarm

namespace protofarm::pop3 {

FakeFactory factory();

}  // namespace protofarm::pop3
