// Framed reading on a Connection: lines, delimiters, fixed lengths and raw chunks.
//
// LineBuffer is the pure part (bytes in, frames out) and is unit-tested byte by byte;
// LineReader adds the socket. Every frame is returned with its terminator, exactly as received,
// so the fake can record it byte for byte. Nothing here records: the fake records each frame
// with the command it parsed, and calls take_buffered() at the end of a session (or when a
// STARTTLS makes pipelined input void) so that bytes it never consumed are recorded too.
//
// Limits: a line that grows past `max` bytes without a line feed comes back as
// FrameStatus::too_long carrying its first `max` bytes (consumed); the rest of that line is
// still pending, and the caller either closes the session or calls skip_line() to discard it.
// Memory is bounded by the limit plus one socket read.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "fakes/common/connection.hpp"

namespace protofarm {

class LineBuffer {
 public:
  void append(std::string_view bytes);
  // One line ending in LF (a CR before it is part of the line), if a whole one is buffered.
  std::optional<std::string> pop_line();
  // Everything up to and including `delimiter`, if buffered.
  std::optional<std::string> pop_until(std::string_view delimiter);
  // Exactly n bytes, if buffered.
  std::optional<std::string> pop_exact(std::size_t n);
  // Up to n bytes of what is buffered.
  std::string pop_some(std::size_t n);
  std::string take_all();
  // Puts bytes back in front of what is buffered: what another parser took but did not use.
  void unread(std::string_view bytes);
  std::size_t size() const { return data_.size() - start_; }
  bool empty() const { return size() == 0; }
  std::string_view view() const { return std::string_view(data_).substr(start_); }

 private:
  void consume(std::size_t n);

  std::string data_;
  std::size_t start_ = 0;
  std::size_t scanned_ = 0;  // bytes after start_ known to hold no LF (avoids rescanning)
};

enum class FrameStatus { ok, too_long, eof, closed };

struct Frame {
  FrameStatus status = FrameStatus::ok;
  std::string bytes;  // the frame with its terminator; for eof, any partial data
  bool ok() const { return status == FrameStatus::ok; }
};

class LineReader {
 public:
  LineReader(Connection& conn, std::size_t max_line) : conn_(conn), max_line_(max_line) {}

  Task<Frame> read_line() { return read_line(max_line_); }
  Task<Frame> read_line(std::size_t max);
  // Discards the rest of the current line, up to hard_max bytes; returns what was discarded
  // (status too_long when even hard_max was not enough).
  Task<Frame> skip_line(std::size_t hard_max);
  Task<Frame> read_until(std::string_view delimiter, std::size_t max);
  Task<Frame> read_exact(std::size_t n);
  // What is buffered, or else the result of one read (at most max bytes).
  Task<Frame> read_chunk(std::size_t max);

  bool has_buffered() const { return !buffer_.empty(); }
  // Hands the buffered bytes to another parser (a Beast request parser, a TLS handshake): with
  // read_chunk() it can be fed from this reader, and unread() gives back what it did not
  // consume, so pipelined input is never lost between parsers.
  std::string take_buffered() { return buffer_.take_all(); }
  void unread(std::string_view bytes) { buffer_.unread(bytes); }
  std::size_t max_line() const { return max_line_; }
  void set_max_line(std::size_t max) { max_line_ = max; }
  // The server's `command_timeout`: once a line (or delimited frame) has begun, the whole of it
  // must arrive within this time, or the connection ends with close reason `timeout` (the idle
  // timeout alone is per read: a client sending a byte a second would never meet it). Zero
  // turns it off. A fake reading frames of its own (HTTP's request heads) brackets them with
  // start_frame_clock() and stop_frame_clock().
  void set_command_timeout(Duration timeout) { command_timeout_ = timeout; }
  void start_frame_clock();
  void stop_frame_clock();
  Connection& connection() { return conn_; }

 private:
  // Reads once more into the buffer; false (with status set) when the connection ended.
  Task<bool> fill(FrameStatus& status);

  // Stops the frame clock when a read_line(), skip_line() or read_until() returns.
  struct FrameClock {
    explicit FrameClock(LineReader& r) : reader(r) {}
    LineReader& reader;
    FrameClock(const FrameClock&) = delete;
    FrameClock& operator=(const FrameClock&) = delete;
    ~FrameClock() { reader.stop_frame_clock(); }
  };

  Connection& conn_;
  std::size_t max_line_;
  Duration command_timeout_{0};
  bool frame_clock_ = false;
  LineBuffer buffer_;
  std::string scratch_ = std::string(std::size_t{16} * 1024, '\0');
};

}  // namespace protofarm
