// Dot-terminated multi-line blocks, the framing that POP3 (RFC 1939 3) and NNTP (RFC 3977
// 3.1.1) use for what the server sends and SMTP (RFC 5321 4.5.2) and NNTP use for what the
// client sends: lines end in CRLF, a line that starts with "." gets a second "." in front
// ("dot-stuffing"), and a line that is just "." ends the block.
//
// The writer side is pure functions; the reader side is a decoder fed bytes in pieces of any
// size. Both are unit-tested byte by byte (tests/unit/multiline_test.cpp).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace protofarm {

// --- writing ------------------------------------------------------------------------------------

// A message as it is sent (RFC 5322 2.3: lines end in CRLF): every bare LF becomes CRLF, and a
// message that does not end with a line end gets CRLF added (a bare CR at the end gets LF). Its
// size() is the exact octet count a server announces for it. The empty message stays empty.
std::string normalize_message(std::string_view bytes);
// The block for a normalized message: a "." that begins a line is doubled, and the terminating
// ".\r\n" is appended (a CRLF first when the input does not end with a line end).
std::string dot_stuff(std::string_view normalized);
// The block for lines of text (a listing): each line CRLF-terminated, then dot_stuff().
std::string dot_stuff_lines(const std::vector<std::string>& lines);

// --- reading ------------------------------------------------------------------------------------

// Which line ends a block. crlf: only CRLF "." CRLF (RFC 5321 4.1.1.4, RFC 3977 3.1.1), that is
// "." CRLF at the start of the block or after a line that ended in CRLF. any_line_end: also the
// bare-LF forms LF "." LF, CRLF "." LF and LF "." CRLF, as lenient servers accept them.
enum class BlockEnd { crlf, any_line_end };

// Reads a block from the bytes that follow the command or reply that opened it, in pieces of
// any size: finds the line that ends it, removes the dot-stuffing (a leading "." of a longer
// line is dropped), keeps at most `keep_limit` octets of the content, and counts what a strict
// peer objects to: lines longer than `max_line` octets (line end included), lines ended by a
// bare LF.
class MultilineDecoder {
 public:
  MultilineDecoder(BlockEnd end, std::uint64_t keep_limit,
                   std::uint64_t max_line = std::numeric_limits<std::uint64_t>::max());

  // Feeds the next bytes. Returns how many of them belong to the block (its end line
  // included): all of them, unless the end line ends inside this piece.
  std::size_t feed(std::string_view bytes);
  bool done() const { return done_; }

  const std::string& content() const { return content_; }     // unstuffed, at most keep_limit
  std::string take_content() { return std::move(content_); }  // once done: no copy
  std::uint64_t size() const { return size_; }                // unstuffed octets, all of them
  bool truncated() const { return size_ > content_.size(); }
  std::uint64_t long_lines() const { return long_lines_; }
  std::uint64_t bare_lf_lines() const { return bare_lf_lines_; }
  // Bytes of a line held back until it is clear whether it ends the block ("." "\r").
  std::string_view pending() const { return head_; }

 private:
  enum class LineEnd { start, crlf, lf };
  bool may_end(std::string_view line) const;
  void emit(std::string_view bytes);
  void end_line(char before_lf);

  BlockEnd end_;
  std::uint64_t keep_limit_;
  std::uint64_t max_line_;
  std::string content_;
  std::uint64_t size_ = 0;
  std::uint64_t long_lines_ = 0;
  std::uint64_t bare_lf_lines_ = 0;
  LineEnd previous_ = LineEnd::start;
  bool at_line_start_ = true;
  std::string head_;               // the start of the current line, while it may end the block
  std::uint64_t line_length_ = 0;  // octets of the current line so far, line end included
  char last_in_line_ = '\0';       // the last byte of the current line so far
  bool done_ = false;
};

}  // namespace protofarm
