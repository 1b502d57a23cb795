// The smtp fake: an RFC 5321 server with STARTTLS, AUTH, SIZE, PIPELINING, 8BITMIME, SMTPUTF8,
// CHUNKING and enhanced status codes, every step of it scriptable. See scenarios/README.md#smtp.
//
// smtp_codec.hpp parses and renders bytes, smtp_protocol.hpp is the state machine (one handler
// per verb), smtp_session.hpp does the I/O of one connection; this file parses the server's
// scenario keys and registers the fake.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/smtp/schema.json, built into the program (CMakeLists.txt).
std::string_view smtp_schema_fragment();
}  // namespace protofarm

namespace protofarm::smtp {

FakeFactory factory();

}  // namespace protofarm::smtp
