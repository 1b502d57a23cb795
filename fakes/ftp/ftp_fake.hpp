// The ftp fake (RFC 959 with RFC 2228/4217 FTPS, RFC 2389 FEAT/OPTS, RFC 2428 EPSV/EPRT and
// RFC 3659 MLSD/MLST/SIZE/MDTM/REST): a virtual file tree from the scenario, users with homes and
// write permission, passive and active data connections, explicit and implicit TLS on both
// channels, uploads kept for the rest of the run, and rules that shape a transfer (`data:`:
// never connect, cut or reset after N bytes, pace, replies before data). See
// scenarios/README.md#ftp.
//
// Layout: ftp_codec (commands, addresses, paths, listings, ASCII; pure), file_tree (the virtual
// file system), ftp_protocol (the per-session state machine, pure), ftp_config (scenario keys and
// the `data:` rule key), and ftp_fake.cpp (the session: the control loop, data channels, TLS,
// transcript).
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/ftp/schema.json, built into the program (CMakeLists.txt).
std::string_view ftp_schema_fragment();
}  // namespace protofarm

namespace protofarm::ftp {

FakeFactory factory();

}  // namespace protofarm::ftp
