// One SMTP connection: the I/O around the pure Protocol (smtp_protocol.hpp).
//
// The session reads command lines (at most 512 octets, 12288 for AUTH; longer ones get "500
// line too long" and the rest of the line is discarded), records each with its parsed command,
// and lets Session::answer() try the rules before the built-in handler. It then carries out
// what the reply implies: read a DATA body (with the scenario's end-of-data mode) or a BDAT
// chunk, run the message stage (`on: message`), go on with an AUTH exchange, or start TLS after
// discarding what the client pipelined behind STARTTLS (RFC 3207 4.2). Every byte the client
// sends is recorded: commands one event each, bodies as events marked "data": true. Each
// message becomes a `message` event and a saved .eml file; accepted ones are also published on
// the farm's bus (kind "message", meta mail_from and recipients) for POP3's deliveries_from. A
// client that vanishes mid-message leaves a message event with "complete": false.
#pragma once

#include "fakes/common/session.hpp"
#include "fakes/smtp/smtp_protocol.hpp"

namespace protofarm::smtp {

// Serves one connection until it ends. Never throws for network trouble.
Task<void> serve_session(Session& session, const Options& options);

}  // namespace protofarm::smtp
