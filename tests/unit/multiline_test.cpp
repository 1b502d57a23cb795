// Dot-terminated multi-line blocks byte by byte: the writer (line ends, dot-stuffing, the end
// line) and the decoder in both end-of-block modes and every split of its input.
#include "fakes/common/multiline.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace protofarm {
namespace {

// --- writing ------------------------------------------------------------------------------------

TEST(Multiline, NormalizesLineEndsAndCountsOctetsAsSent) {
  EXPECT_EQ(normalize_message("a\nb\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalize_message("a\r\nb\r\n"), "a\r\nb\r\n");
  EXPECT_EQ(normalize_message("a\r\nb"), "a\r\nb\r\n");  // a final line end is added
  EXPECT_EQ(normalize_message("a\r"), "a\r\n");
  EXPECT_EQ(normalize_message("a\rb\n"), "a\rb\r\n");  // a lone CR inside a line stays
  EXPECT_EQ(normalize_message("\n\n"), "\r\n\r\n");
  EXPECT_EQ(normalize_message(""), "");
  EXPECT_EQ(normalize_message("Subject: x\n\nhi\n").size(), 18u);
}

TEST(Multiline, DotStuffsLinesThatBeginWithADot) {
  EXPECT_EQ(dot_stuff(".\r\n"), "..\r\n.\r\n");
  EXPECT_EQ(dot_stuff("a\r\n.b\r\n..c\r\nd.\r\n"), "a\r\n..b\r\n...c\r\nd.\r\n.\r\n");
  EXPECT_EQ(dot_stuff(""), ".\r\n");
  EXPECT_EQ(dot_stuff("no end"), "no end\r\n.\r\n");
}

TEST(Multiline, StuffsLinesOfText) {
  EXPECT_EQ(dot_stuff_lines({"1 120", "2 200"}), "1 120\r\n2 200\r\n.\r\n");
  EXPECT_EQ(dot_stuff_lines({".hidden", "", "."}), "..hidden\r\n\r\n..\r\n.\r\n");
  EXPECT_EQ(dot_stuff_lines({}), ".\r\n");
}

// --- reading ------------------------------------------------------------------------------------

struct Decoded {
  bool done = false;
  std::size_t consumed = 0;
  std::string content;
  std::uint64_t size = 0, long_lines = 0, bare_lf = 0;
};

// Feeds `input` in pieces of `piece` bytes (0: all at once).
Decoded decode(std::string_view input, BlockEnd end, std::size_t piece = 0,
               std::uint64_t keep = UINT64_MAX, std::uint64_t max_line = UINT64_MAX) {
  MultilineDecoder d(end, keep, max_line);
  Decoded out;
  if (piece == 0) piece = input.size() ? input.size() : 1;
  for (std::size_t i = 0; i < input.size() && !d.done(); i += piece) {
    const std::string_view part = input.substr(i, piece);
    const std::size_t n = d.feed(part);
    out.consumed += n;
    if (!d.done()) {
      EXPECT_EQ(n, part.size());
    }
  }
  out.done = d.done();
  out.content = d.content();
  out.size = d.size();
  out.long_lines = d.long_lines();
  out.bare_lf = d.bare_lf_lines();
  return out;
}

// Every split of the input, byte by byte included, must decode the same way.
void expect_decodes(std::string_view input, BlockEnd end, bool done, std::string_view content,
                    std::size_t consumed) {
  for (std::size_t piece :
       {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7}}) {
    const Decoded d = decode(input, end, piece);
    EXPECT_EQ(d.done, done) << "piece " << piece;
    EXPECT_EQ(d.content, content) << "piece " << piece;
    if (done) {
      EXPECT_EQ(d.consumed, consumed) << "piece " << piece;
    }
  }
}

TEST(MultilineDecoder, EndsAtCrLfDotCrLf) {
  const std::string in = "Subject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n";
  expect_decodes(in, BlockEnd::crlf, true, "Subject: hi\r\n\r\nbody\r\n", in.size() - 6);
}

TEST(MultilineDecoder, EmptyBlock) { expect_decodes(".\r\n", BlockEnd::crlf, true, "", 3); }

TEST(MultilineDecoder, RemovesDotStuffing) {
  expect_decodes("..\r\n..hidden\r\n.x\r\n.\r\n", BlockEnd::crlf, true, ".\r\n.hidden\r\nx\r\n",
                 21);
}

TEST(MultilineDecoder, DotInsideALineIsData) {
  expect_decodes("a.\r\nb .\r\n.\r\n", BlockEnd::crlf, true, "a.\r\nb .\r\n", 12);
}

TEST(MultilineDecoder, ReadsBackWhatTheWriterStuffed) {
  for (const char* text : {"", "a\n", ".\n", "..\n.x\n.\n", "line\n.\nmore\n", "no end"}) {
    const std::string normalized = normalize_message(text);
    const std::string block = dot_stuff(normalized);
    const Decoded d = decode(block + "NEXT\r\n", BlockEnd::crlf, 1);
    EXPECT_TRUE(d.done) << text;
    EXPECT_EQ(d.content, normalized) << text;
    EXPECT_EQ(d.consumed, block.size()) << text;
  }
}

TEST(MultilineDecoder, CrlfModeIgnoresBareLfForms) {
  // The SMTP smuggling forms: none of them ends the block unless every line end counts.
  const std::string in = "a\n.\nMAIL FROM:<x@y.z>\r\nb\r\n.\n\r\nc\n.\r\nd\r\n.\r\n";
  const Decoded d = decode(in, BlockEnd::crlf);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.consumed, in.size());
  EXPECT_EQ(d.content, "a\n.\nMAIL FROM:<x@y.z>\r\nb\r\n.\n\r\nc\n.\r\nd\r\n");
  EXPECT_EQ(d.bare_lf, 4u);
  expect_decodes(in, BlockEnd::crlf, true, d.content, in.size());
}

TEST(MultilineDecoder, AnyLineEndEndsAtLfDotLf) {
  expect_decodes("a\n.\nMAIL FROM:<x@y.z>\r\n", BlockEnd::any_line_end, true, "a\n", 4);
}

TEST(MultilineDecoder, AnyLineEndEndsAtCrLfDotLf) {
  expect_decodes("a\r\n.\nrest", BlockEnd::any_line_end, true, "a\r\n", 5);
}

TEST(MultilineDecoder, AnyLineEndEndsAtLfDotCrLf) {
  expect_decodes("a\n.\r\nrest", BlockEnd::any_line_end, true, "a\n", 5);
}

TEST(MultilineDecoder, AnyLineEndStillUnstuffs) {
  expect_decodes("..\n.\n", BlockEnd::any_line_end, true, ".\n", 5);
}

TEST(MultilineDecoder, UnfinishedBlockIsNotDone) {
  const Decoded d = decode("partial line\r\nno end", BlockEnd::crlf);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.content, "partial line\r\nno end");
  MultilineDecoder held(BlockEnd::crlf, UINT64_MAX);
  held.feed("line\r\n.");
  EXPECT_FALSE(held.done());
  EXPECT_EQ(held.content(), "line\r\n");  // the "." waits for what follows
  EXPECT_EQ(held.pending(), ".");
}

TEST(MultilineDecoder, CountsLinesOverTheLimit) {
  const std::string ok_line(998, 'x');  // 998 + CRLF = 1000 octets: allowed
  const std::string long_line(999, 'y');
  const std::string in = ok_line + "\r\n" + long_line + "\r\n.\r\n";
  for (std::size_t piece : {0, 1, 100}) {
    const Decoded d = decode(in, BlockEnd::crlf, piece, UINT64_MAX, 1000);
    EXPECT_TRUE(d.done);
    EXPECT_EQ(d.long_lines, 1u) << piece;
  }
  EXPECT_EQ(decode(in, BlockEnd::crlf).long_lines, 0u);  // no limit given
}

TEST(MultilineDecoder, KeepsOnlyTheLimitButCountsAll) {
  const Decoded d = decode("0123456789\r\n.\r\n", BlockEnd::crlf, 0, 4);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, "0123");
  EXPECT_EQ(d.size, 12u);
}

TEST(MultilineDecoder, BinaryBytesPassThrough) {
  const std::string in = std::string("a\0b\xff\r\n.\r\n", 9);
  const Decoded d = decode(in, BlockEnd::crlf, 1);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.content, std::string("a\0b\xff\r\n", 6));
}

}  // namespace
}  // namespace protofarm
