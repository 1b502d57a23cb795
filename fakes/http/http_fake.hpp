// The http fake (RFC 9110, RFC 9112): an honest HTTP/1.1 server by default (keep-alive,
// pipelining, chunked bodies, Expect: 100-continue, HEAD and OPTIONS, a static document root
// with conditional and range requests, CGI/1.1 scripts as child processes, HTTPS), and with
// rules, the server a client meets on a bad day: scripted responses, faults that break the
// framing on purpose, pacing. See scenarios/README.md#http.
//
// Layout: http_codec (requests in through Boost.Beast's parser, response heads out, pure),
// docroot (the static files, pure but for stat), cgi (the script's location, environment and
// response, pure), http_config (scenario and rule keys), and http_fake.cpp (the session).
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/http/schema.json, built into the program (CMakeLists.txt).
std::string_view http_schema_fragment();
}  // namespace protofarm

namespace protofarm::http {

FakeFactory factory();

}  // namespace protofarm::http
