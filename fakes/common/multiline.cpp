#include "fakes/common/multiline.hpp"

#include <algorithm>
#include <cstring>

namespace protofarm {

// --- writing ------------------------------------------------------------------------------------

std::string normalize_message(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + bytes.size() / 32 + 2);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && (i == 0 || bytes[i - 1] != '\r')) out += '\r';
    out += c;
  }
  if (!out.empty() && out.back() != '\n') out += out.back() == '\r' ? "\n" : "\r\n";
  return out;
}

std::string dot_stuff(std::string_view normalized) {
  std::string out;
  out.reserve(normalized.size() + normalized.size() / 64 + 8);
  bool line_start = true;
  for (char c : normalized) {
    // RFC 1939 3, RFC 3977 3.1.1: a line that begins with the termination octet is stuffed.
    if (line_start && c == '.') out += '.';
    out += c;
    line_start = c == '\n';
  }
  if (!line_start) out += "\r\n";  // only for input that was not normalized
  out += ".\r\n";
  return out;
}

std::string dot_stuff_lines(const std::vector<std::string>& lines) {
  std::string body;
  for (const auto& line : lines) {
    body += line;
    body += "\r\n";
  }
  return dot_stuff(body);
}

// --- reading ------------------------------------------------------------------------------------

MultilineDecoder::MultilineDecoder(BlockEnd end, std::uint64_t keep_limit, std::uint64_t max_line)
    : end_(end), keep_limit_(keep_limit), max_line_(max_line) {}

bool MultilineDecoder::may_end(std::string_view line) const {
  if (line == ".\r\n") return end_ == BlockEnd::any_line_end || previous_ != LineEnd::lf;
  if (line == ".\n") return end_ == BlockEnd::any_line_end;
  return false;
}

void MultilineDecoder::emit(std::string_view bytes) {
  size_ += bytes.size();
  if (content_.size() < keep_limit_) {
    const std::uint64_t room = keep_limit_ - content_.size();
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size()));
    // Past 1 MiB, grow straight to the limit instead of doubling: a body at the limit then
    // takes the limit in memory, not twice as much while a doubled string is copied.
    constexpr std::uint64_t kDirectFrom = std::uint64_t{1} << 20;
    constexpr std::uint64_t kDirectUpTo = std::uint64_t{256} << 20;
    if (content_.size() + take > content_.capacity() && content_.size() + take > kDirectFrom &&
        keep_limit_ <= kDirectUpTo)
      content_.reserve(static_cast<std::size_t>(keep_limit_));
    content_.append(bytes.substr(0, take));
  }
}

void MultilineDecoder::end_line(char before_lf) {
  if (line_length_ > max_line_) ++long_lines_;
  if (before_lf == '\r') {
    previous_ = LineEnd::crlf;
  } else {
    previous_ = LineEnd::lf;
    ++bare_lf_lines_;
  }
  line_length_ = 0;
  at_line_start_ = true;
}

std::size_t MultilineDecoder::feed(std::string_view bytes) {
  std::size_t i = 0;
  while (i < bytes.size() && !done_) {
    if (at_line_start_) {
      // The first bytes of a line decide whether it ends the block or is dot-stuffed: hold
      // back "." and ".\r" until the next byte tells.
      const char before = head_.empty() ? '\0' : head_.back();
      const char c = bytes[i++];
      head_ += c;
      ++line_length_;
      if (head_ == "." || head_ == ".\r") continue;
      if (c == '\n' && may_end(head_)) {
        done_ = true;
        head_.clear();
        line_length_ = 0;
        return i;
      }
      std::string_view line = head_;
      // RFC 5321 4.5.2: "If the first character is a period and there are other characters on
      // the line, the first character is deleted." (RFC 3977 3.1.1 says the same.)
      if (line.size() >= 2 && line.front() == '.' && line != ".\r\n" && line != ".\n")
        line.remove_prefix(1);
      emit(line);
      head_.clear();
      if (c == '\n') {
        end_line(before);
      } else {
        at_line_start_ = false;
        last_in_line_ = c;
      }
      continue;
    }
    const void* lf = std::memchr(bytes.data() + i, '\n', bytes.size() - i);
    const std::size_t end =
        lf ? static_cast<std::size_t>(static_cast<const char*>(lf) - bytes.data()) + 1
           : bytes.size();
    emit(bytes.substr(i, end - i));
    line_length_ += end - i;
    if (lf) {
      const char before = end - 1 > i ? bytes[end - 2] : last_in_line_;
      end_line(before);
      last_in_line_ = '\0';
    } else {
      last_in_line_ = bytes[end - 1];
    }
    i = end;
  }
  return i;
}

}  // namespace protofarm
