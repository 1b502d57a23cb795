// Fuzz target: the FTP command parser and the protocol state machine behind it.
//
// The input is a control-connection conversation: it is cut into lines, each parsed
// (ftp_codec.hpp) and handled by a Protocol over a small tree (ftp_protocol.hpp), as a session
// would, with passive ports "opened" and transfers "finished" (uploads store part of the input).
// Besides not crashing, leaking or invoking undefined behaviour, every reply must be well formed,
// the working folder must stay a normalized absolute path inside the tree, and the PORT/EPRT,
// path and ASCII codecs must keep their stated properties on whatever the line holds.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/ftp_session/ in every build, so `make test` (and its ASan build) runs it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fakes/common/numeric_reply.hpp"
#include "fakes/ftp/file_tree.hpp"
#include "fakes/ftp/ftp_codec.hpp"
#include "fakes/ftp/ftp_config.hpp"
#include "fakes/ftp/ftp_protocol.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm::ftp;
using protofarm::Content;

void check_reply(const std::string& bytes) {
  check(bytes.size() >= 5 && bytes.ends_with("\r\n"));
  check(protofarm::reply_code_of(bytes) >= 100 && protofarm::reply_code_of(bytes) < 600);
}

void check_path(const std::string& p) {
  check(p.starts_with('/'));
  check(p == "/" || !p.ends_with('/'));
  check(p.find("//") == std::string::npos && p.find("/./") == std::string::npos &&
        p.find("/../") == std::string::npos && !p.ends_with("/..") && !p.ends_with("/."));
}

void codecs(std::string_view arg) {
  if (const auto hp = parse_port(arg)) check(hp->port > 0 && !hp->host.empty());
  bool unsupported = false;
  if (const auto hp = parse_eprt(arg, unsupported)) check(hp->port > 0 && !unsupported);
  if (const auto p = resolve_path("/pub", arg)) check_path(*p);
  // TYPE A: without CRs, decoding what was encoded gives the input back.
  if (arg.find('\r') == std::string_view::npos) {
    AsciiEncoder enc;
    AsciiDecoder dec;
    std::string round = dec.decode(enc.encode(arg));
    round += dec.finish();
    check(round == arg);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Config config;
  config.tls = size > 0 && data[0] % 2 ? protofarm::TlsMode::starttls : protofarm::TlsMode::none;
  config.users.emplace("anonymous", User{});
  config.users.emplace("alice", User{std::string("secret"), "/home/alice", true});
  config.max_upload = 4096;
  FileTree tree;
  tree.put_file("/pub/readme.txt", Content{});
  tree.make_dirs("/pub/empty");
  Content big;
  big.kind = Content::Kind::generated;
  big.size = 1 << 20;
  tree.put_file("/pub/big.bin", big);
  tree.make_dirs("/home/alice")->write = true;
  tree.make_dirs("/incoming")->write = true;

  Protocol protocol(config, tree, "127.0.0.1", false, {});
  check_reply(protocol.greeting());
  std::size_t start = 0;
  int lines = 0;
  while (start < input.size() && lines++ < 256) {
    std::size_t end = input.find('\n', start);
    end = end == std::string_view::npos ? input.size() : end + 1;
    const std::string_view line = input.substr(start, end - start);
    start = end;
    const Command c = parse_command(line);
    codecs(c.arg);
    Reply r = protocol.handle(c);
    if (r.effect == Effect::passive) {
      protocol.passive_opened();
      continue;
    }
    if (r.effect == Effect::start_tls) protocol.tls_started();
    if (r.effect == Effect::transfer) {
      check(r.transfer.has_value());
      check_reply(r.transfer->preliminary);
      check_path(r.transfer->path);
      TransferOutcome out;
      if (r.transfer->upload()) out.upload = std::string(line);
      const Reply done = protocol.finish_transfer(*r.transfer, out);
      check_reply(done.bytes);
      if (r.transfer->upload()) protocol.store_upload(*r.transfer, out.upload);
      continue;
    }
    check_reply(r.bytes);
    // (The working folder may be gone: a client can remove or rename it, as on a real server.)
    check_path(protocol.cwd());
    // A rule answering instead keeps the state in step whatever code it gives.
    (void)protocol.follow_reply(c, protofarm::reply_code_of(line));
  }
  return 0;
}
