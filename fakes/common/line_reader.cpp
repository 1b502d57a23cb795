#include "fakes/common/line_reader.hpp"

#include <algorithm>

namespace protofarm {

void LineBuffer::append(std::string_view bytes) {
  if (start_ > 0 && start_ >= data_.size() / 2) {
    data_.erase(0, start_);
    start_ = 0;
  }
  data_.append(bytes);
}

void LineBuffer::consume(std::size_t n) {
  start_ += n;
  scanned_ = 0;
  if (start_ == data_.size()) {
    data_.clear();
    start_ = 0;
  }
}

std::optional<std::string> LineBuffer::pop_line() {
  const std::size_t lf = data_.find('\n', start_ + scanned_);
  if (lf == std::string::npos) {
    scanned_ = size();
    return std::nullopt;
  }
  std::string line = data_.substr(start_, lf + 1 - start_);
  consume(line.size());
  return line;
}

std::optional<std::string> LineBuffer::pop_until(std::string_view delimiter) {
  if (delimiter.empty()) return std::nullopt;
  const std::size_t at = data_.find(delimiter, start_);
  if (at == std::string::npos) return std::nullopt;
  std::string frame = data_.substr(start_, at + delimiter.size() - start_);
  consume(frame.size());
  return frame;
}

std::optional<std::string> LineBuffer::pop_exact(std::size_t n) {
  if (size() < n) return std::nullopt;
  std::string frame = data_.substr(start_, n);
  consume(n);
  return frame;
}

std::string LineBuffer::pop_some(std::size_t n) {
  std::string out = data_.substr(start_, std::min(n, size()));
  consume(out.size());
  return out;
}

std::string LineBuffer::take_all() { return pop_some(size()); }

void LineBuffer::unread(std::string_view bytes) {
  if (bytes.empty()) return;
  if (bytes.size() <= start_) {
    start_ -= bytes.size();
    data_.replace(start_, bytes.size(), bytes);
  } else {
    data_.replace(0, start_, bytes);
    start_ = 0;
  }
  scanned_ = 0;  // the new front may hold a line end
}

void LineReader::start_frame_clock() {
  if (frame_clock_ || command_timeout_.count() <= 0) return;
  frame_clock_ = true;
  conn_.set_frame_deadline(std::chrono::steady_clock::now() + command_timeout_);
}

void LineReader::stop_frame_clock() {
  if (!frame_clock_) return;
  frame_clock_ = false;
  conn_.set_frame_deadline(std::chrono::steady_clock::time_point::max());
}

Task<bool> LineReader::fill(FrameStatus& status) {
  const IoResult r = co_await conn_.read_some(asio::buffer(scratch_));
  if (r.bytes > 0) buffer_.append(std::string_view(scratch_.data(), r.bytes));
  if (r.ok()) co_return true;
  status = r.status == IoStatus::eof ? FrameStatus::eof : FrameStatus::closed;
  co_return false;
}

Task<Frame> LineReader::read_line(std::size_t max) {
  const FrameClock clock(*this);
  for (;;) {
    if (auto line = buffer_.pop_line()) {
      if (line->size() <= max) co_return Frame{FrameStatus::ok, std::move(*line)};
      // A whole line arrived at once but is over the limit: hand back its head, keep the tail
      // pending so the caller can skip it like any other over-long line.
      std::string head = line->substr(0, max);
      std::string tail = line->substr(max);
      std::string rest = buffer_.take_all();
      buffer_.append(tail);
      buffer_.append(rest);
      co_return Frame{FrameStatus::too_long, std::move(head)};
    }
    if (buffer_.size() > max) co_return Frame{FrameStatus::too_long, buffer_.pop_some(max)};
    if (!buffer_.empty()) start_frame_clock();  // a line has begun
    FrameStatus status = FrameStatus::ok;
    if (!co_await fill(status)) {
      if (auto line = buffer_.pop_line()) co_return Frame{FrameStatus::ok, std::move(*line)};
      co_return Frame{status, buffer_.take_all()};
    }
  }
}

Task<Frame> LineReader::skip_line(std::size_t hard_max) {
  const FrameClock clock(*this);
  std::string skipped;
  for (;;) {
    if (auto line = buffer_.pop_line()) {
      skipped += *line;
      co_return Frame{FrameStatus::ok, std::move(skipped)};
    }
    skipped += buffer_.take_all();
    if (skipped.size() > hard_max) co_return Frame{FrameStatus::too_long, std::move(skipped)};
    start_frame_clock();  // the line began before the skip
    FrameStatus status = FrameStatus::ok;
    if (!co_await fill(status)) {
      if (auto line = buffer_.pop_line()) {
        skipped += *line;
        co_return Frame{FrameStatus::ok, std::move(skipped)};
      }
      skipped += buffer_.take_all();
      co_return Frame{status, std::move(skipped)};
    }
  }
}

Task<Frame> LineReader::read_until(std::string_view delimiter, std::size_t max) {
  const FrameClock clock(*this);
  for (;;) {
    if (auto frame = buffer_.pop_until(delimiter)) {
      if (frame->size() <= max) co_return Frame{FrameStatus::ok, std::move(*frame)};
      std::string rest = buffer_.take_all();
      buffer_.append(frame->substr(max));
      buffer_.append(rest);
      co_return Frame{FrameStatus::too_long, frame->substr(0, max)};
    }
    if (buffer_.size() > max + delimiter.size())
      co_return Frame{FrameStatus::too_long, buffer_.pop_some(max)};
    if (!buffer_.empty()) start_frame_clock();  // a line has begun
    FrameStatus status = FrameStatus::ok;
    if (!co_await fill(status)) {
      if (auto frame = buffer_.pop_until(delimiter))
        co_return Frame{FrameStatus::ok, std::move(*frame)};
      co_return Frame{status, buffer_.take_all()};
    }
  }
}

Task<Frame> LineReader::read_exact(std::size_t n) {
  for (;;) {
    if (auto frame = buffer_.pop_exact(n)) co_return Frame{FrameStatus::ok, std::move(*frame)};
    FrameStatus status = FrameStatus::ok;
    if (!co_await fill(status)) co_return Frame{status, buffer_.take_all()};
  }
}

Task<Frame> LineReader::read_chunk(std::size_t max) {
  if (buffer_.empty()) {
    FrameStatus status = FrameStatus::ok;
    if (!co_await fill(status)) co_return Frame{status, buffer_.take_all()};
  }
  co_return Frame{FrameStatus::ok, buffer_.pop_some(max)};
}

}  // namespace protofarm
