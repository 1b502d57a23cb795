// The raw TCP fake (also serves Unix stream sockets): a scripted conversation, a rules mode
// for request/response servers, or both (the script first, then the rules).
//
// Client input is cut into frames by the server's `framing` (line, crlf, a delimiter, a fixed
// length, or raw reads). A script step sends bytes, expects a frame matching a regex (its
// captures usable as ${N} in later sends), pauses, upgrades to TLS, closes or resets. In rules
// mode each frame is a request: `on` compares with its first word, `match` searches the whole
// frame as received; without a matching rule the frame is echoed when `echo: true`, else
// nothing is sent.
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/tcp/schema.json, built into the program (CMakeLists.txt).
std::string_view tcp_schema_fragment();
}  // namespace protofarm

namespace protofarm::tcp {

FakeFactory factory();

}  // namespace protofarm::tcp
