// Fuzz target: the NNTP command parser, the article parser and the protocol state machine.
//
// The input is a conversation: it is cut into lines, each parsed (nntp_codec.hpp) and handled by
// a Protocol over a small store (nntp_protocol.hpp), as a session would: after a 340 or 335 the
// lines up to the terminating "." are the article (read with common/multiline's decoder, checked
// for undoubled dots, then finished), SASL lines go to the exchange, STARTTLS "succeeds". The
// whole input is also parsed as one article. Besides not crashing, leaking or invoking undefined
// behaviour, every reply must be a well-formed status line (and block), every overview line must
// have its nine fields, and the codecs must keep their stated properties on whatever a line holds.
//
// Built twice: with libFuzzer for campaigns (`make fuzz`), and as a replay of the saved corpus
// in tests/fuzz/corpus/nntp_session/ in every build, so `make test` (and its ASan build) runs it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fakes/common/multiline.hpp"
#include "fakes/common/numeric_reply.hpp"
#include "fakes/nntp/article_store.hpp"
#include "fakes/nntp/nntp_codec.hpp"
#include "fakes/nntp/nntp_config.hpp"
#include "fakes/nntp/nntp_protocol.hpp"
#include "tests/fuzz/check.hpp"

namespace {

using namespace protofarm::nntp;

const TimePoint kNow{std::chrono::seconds(1772368200)};  // 2026-03-01T12:30:00Z

// A reply: status lines of three digits and text, CRLF-terminated; a multi-line one ends in
// ".\r\n" exactly once.
void check_reply(Reply& r) {
  const std::string text = drain(r);
  if (text.empty()) return;  // a blank command line gets no answer
  const int code = protofarm::reply_code_of(text);
  check(code >= 100 && code < 600);
  check(text.ends_with("\r\n"));
  check(text.find('\n') + 1 == text.find("\r\n") + 2);
  // More than the status line: a block, which its terminating line ends.
  if (text.find("\r\n") + 2 < text.size()) check(text.ends_with("\r\n.\r\n"));
}

void check_article(const Article& a) {
  const std::string rendered = a.render();
  check(rendered.size() == a.size());
  for (std::size_t i = 0; i < rendered.size(); ++i)
    if (rendered[i] == '\n') check(i > 0 && rendered[i - 1] == '\r');
  const std::string line = overview_line(7, a, "protofarm g:7");
  check(std::count(line.begin(), line.end(), '\t') == 8);
  check(line.find_first_of("\r\n") == std::string::npos);
  // What parse_article made of it, it makes again the same way.
  const ParsedArticle again = parse_article(rendered);
  check(again.article.headers.size() == a.headers.size());
  check(again.article.body == a.body);
}

// Properties of the pure parsers on any text.
void codecs(std::string_view arg) {
  if (const auto r = parse_range(arg)) check(arg.find('-') != std::string_view::npos || r->high);
  if (is_message_id(arg)) check(arg.size() >= 3 && arg.front() == '<' && arg.back() == '>');
  if (is_article_message_id(arg)) check(is_message_id(arg));
  if (const auto w = Wildmat::parse(arg)) {
    (void)w->matches(arg);
    (void)w->matches("comp.lang.python");
  }
  if (is_newsgroup_name(arg)) check(arg.find_first_of(" ,*?[\\!") == std::string_view::npos);
  (void)parse_article_date(arg);
  (void)parse_iso_time(arg);
  for (const auto& g : split_newsgroups(arg)) check(!g.empty() && g.find(',') == std::string::npos);
}

// After 340/335: the article, read from the following lines as the session would.
std::size_t read_article(Protocol& p, std::string_view input, std::size_t start) {
  protofarm::MultilineDecoder decoder(protofarm::BlockEnd::crlf, 4097, kMaxArticleLine);
  StuffingCheck stuffing;
  const std::size_t used = decoder.feed(input.substr(start));
  stuffing.feed(input.substr(start, used));
  ReceivedArticle in;
  in.content = decoder.content();
  if (!decoder.done()) in.content += decoder.pending();
  in.size = decoder.size();
  in.complete = decoder.done();
  in.bare_lf_lines = decoder.bare_lf_lines();
  in.unstuffed_line = stuffing.first_bad_line();
  // Every other transfer is answered by a "rule" instead.
  PostOutcome out = used % 2 ? p.finish_transfer(in) : p.follow_transfer(in, used % 7 ? 240 : 441);
  check_reply(out.reply);
  check(!p.transfer_pending());
  if (out.accepted) check(is_message_id(out.message_id));
  return start + used;
}

void store_with_groups(ArticleStore& store) {
  Group& python = store.add_group("comp.lang.python");
  store.place(python, 3,
              parse_article("From: a@example.test\r\nNewsgroups: comp.lang.python\r\n"
                            "Subject: hi\r\nMessage-ID: <3@example.test>\r\n\r\n.dot\r\n")
                  .article,
              "scenario");
  store.set_generate(store.add_group("misc.generated"), Generate{1, 2000});
  store.add_group("mod.announce").status = 'm';
  store.add_group("ro.archive").status = 'n';
  store.add_group("local.empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_article(parse_article(input).article);

  Config config;
  config.users = {{"alice", "secret"}};
  config.offer_starttls = size > 0 && data[0] % 2;
  config.require_auth = size > 0 && data[0] % 3 == 0;
  config.posting = !(size > 0 && data[0] % 5 == 0);
  config.max_article = 4096;
  ArticleStore store(size, kNow);
  store_with_groups(store);
  Protocol protocol(config, store, SessionInfo{1, false, [] { return kNow; }});

  std::size_t start = 0;
  for (int lines = 0; start < input.size() && lines < 256; ++lines) {
    std::size_t end = input.find('\n', start);
    end = end == std::string_view::npos ? input.size() : end + 1;
    const std::string_view line = input.substr(start, end - start);
    start = end;
    if (protocol.awaiting_sasl()) {
      Reply r = protocol.handle_sasl(line);
      check_reply(r);
      continue;
    }
    const Command c = parse_command(line);
    codecs(c.args);
    for (const auto& w : c.words) codecs(w);
    Reply r = protocol.handle(c);
    const Effect effect = r.effect;
    check_reply(r);
    if (effect == Effect::start_tls) protocol.tls_started();
    if (effect == Effect::read_article) start = read_article(protocol, input, start);
    // A rule answering instead keeps the state in step whatever code it gives.
    Reply followed = protocol.follow_reply(c, protofarm::reply_code_of(line));
    if (followed.effect == Effect::read_article) start = read_article(protocol, input, start);
    if (followed.effect == Effect::start_tls) protocol.tls_started();
    if (protocol.group()) {
      check(protocol.group()->count() == 0 || protocol.group()->low() <= protocol.group()->high());
      if (protocol.current()) check(store.article(*protocol.group(), *protocol.current()));
    }
  }
  return 0;
}
