// The nntp fake (RFC 3977 with RFC 4642 STARTTLS, RFC 4643 AUTHINFO USER/PASS and SASL PLAIN,
// RFC 2980's XOVER and XHDR and RFC 6048's LIST forms): newsgroups and articles from the
// scenario (inline, from files, or generated lazily from the seed), overview computed from the
// articles, posting and IHAVE that number an article in each of its groups for the rest of the
// run, and INN's replies where the RFCs leave a choice. See scenarios/README.md#nntp.
//
// Layout: nntp_codec (commands, ranges, message-ids, wildmats, articles, overview, dates; pure),
// article_store (the groups and articles of the run), nntp_protocol (the per-session state
// machine, pure), nntp_config (scenario keys and the rule syntax), and nntp_fake.cpp (the
// session: reading, rules, posted articles, TLS, transcript).
#pragma once

#include "fakes/common/fake.hpp"

namespace protofarm {
// fakes/nntp/schema.json, built into the program (CMakeLists.txt).
std::string_view nntp_schema_fragment();
}  // namespace protofarm

namespace protofarm::nntp {

FakeFactory factory();

}  // namespace protofarm::nntp
