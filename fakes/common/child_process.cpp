#include "fakes/common/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <utility>

namespace protofarm {

namespace {

using namespace asio::experimental::awaitable_operators;

// How long the destructor waits for a SIGKILLed child to be gone before giving up on reaping it.
constexpr int kReapWaitMs = 2000;
// One read from a pipe (a Linux pipe holds 64 KiB).
constexpr std::size_t kReadChunk = std::size_t{64} * 1024;

error_code errno_code(int e) { return error_code(e, asio::error::get_system_category()); }
error_code last_error() { return errno_code(errno); }

// A file descriptor owned until released.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec pipe whose ends are both above 2. A farm started with stdin, stdout or stderr
// closed would otherwise get a pipe end numbered 0 to 2, and the child's dup2 onto 0, 1 and 2
// could overwrite one pipe end with another before using it.
error_code make_pipe(Fd& read_end, Fd& write_end) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_error();
  read_end.reset(fds[0]);
  write_end.reset(fds[1]);
  for (Fd* end : {&read_end, &write_end}) {
    if (end->get() > 2) continue;
    const int moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return last_error();
    end->reset(moved);
  }
  return {};
}

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

// NULL-terminated array of pointers into `strings` (which must outlive it).
std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

ExitStatus decode_wait_status(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  } else {
    s.error = errno_code(EINVAL);  // stopped or continued: not asked for (no WUNTRACED)
  }
  return s;
}

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  bool attr_ok = false;
  bool actions_ok = false;

  ~SpawnSetup() {
    if (actions_ok) posix_spawn_file_actions_destroy(&actions);
    if (attr_ok) posix_spawnattr_destroy(&attr);
  }
};

// --- run_child's parts --------------------------------------------------------------------------

// What run_child's concurrent parts share; lives in run_child's frame.
struct RunState {
  explicit RunState(const asio::any_io_executor& ex) : watchdog(ex) {}
  asio::steady_timer watchdog;
  bool done = false;  // input fed, outputs at end of file, child exited
};

Task<void> feed_stdin(ChildProcess& child, const std::string& bytes) {
  // An error (EPIPE: the child stopped reading) only means the rest of the input is not wanted.
  if (!bytes.empty()) co_await child.write_stdin(bytes);
  child.close_stdin();
}

Task<void> collect(ChildProcess& child,
                   Task<ChildProcess::IoResult> (ChildProcess::*read_some)(asio::mutable_buffer),
                   std::string& out, std::size_t max, bool& truncated) {
  std::string buffer(kReadChunk, '\0');
  for (;;) {
    auto [ec, n] = co_await (child.*read_some)(asio::buffer(buffer));
    const std::size_t keep = std::min(n, max - std::min(max, out.size()));
    out.append(buffer.data(), keep);
    if (keep < n) truncated = true;  // the rest is read and dropped: the child never blocks
    if (ec) co_return;               // eof, or the pipes were closed after a deadline kill
  }
}

Task<void> wait_exited(ChildProcess& child) { co_await child.wait_exited(); }

Task<void> run_io(ChildProcess& child, const ChildSpec& spec, ChildResult& result,
                  RunState& state) {
  co_await (feed_stdin(child, spec.stdin_bytes) &&
            collect(child, &ChildProcess::read_stdout_some, result.stdout_bytes, spec.max_stdout,
                    result.stdout_truncated) &&
            collect(child, &ChildProcess::read_stderr_some, result.stderr_bytes, spec.max_stderr,
                    result.stderr_truncated) &&
            wait_exited(child));
  state.done = true;
  state.watchdog.cancel();
}

Task<void> watch_deadline(ChildProcess& child, Duration deadline, ChildResult& result,
                          RunState& state) {
  if (deadline.count() <= 0 || deadline == Duration::max()) co_return;
  state.watchdog.expires_after(deadline);
  auto [ec] = co_await state.watchdog.async_wait(use_tuple);
  // `done` as well as `ec`: the timer may have expired with its completion already queued when
  // run_io cancelled it.
  if (ec || state.done) co_return;
  result.killed_on_deadline = true;
  child.kill(SIGKILL);
  // The whole group is dead now, so the pipes reach end of file at once, unless a process that
  // left the group (setsid) still holds them: stop reading after a grace period then.
  state.watchdog.expires_after(kKillGrace);
  auto [grace_ec] = co_await state.watchdog.async_wait(use_tuple);
  if (grace_ec || state.done) co_return;
  child.close_pipes();
}

}  // namespace

std::string ExitStatus::describe() const {
  if (error) return "no exit status: " + error.message();
  if (code >= 0) return "exit " + std::to_string(code);
  if (signal > 0) {
    const char* name = ::sigabbrev_np(signal);
    return "signal " + std::to_string(signal) + (name ? std::string(" (SIG") + name + ")" : "");
  }
  return "no exit status";
}

ChildProcess::ChildProcess(const asio::any_io_executor& ex)
    : stdin_(ex), stdout_(ex), stderr_(ex), pidfd_(ex) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !status_) kill_and_reap(pidfd_.is_open() ? pidfd_.native_handle() : -1);
}

void ChildProcess::kill_and_reap(int pidfd) {
  // Shutdown (or a failed start) with a live child: kill its group and reap it here,
  // synchronously. That is acceptable outside the event loop because SIGKILL cannot be caught,
  // blocked or ignored, so the kernel tears the child down at once; the pidfd lets us wait for
  // exactly that, bounded by a poll timeout, instead of an unbounded waitpid. The child is still
  // unreaped, so its pid and group id cannot have been reused by someone else. A child stuck in
  // uninterruptible sleep past the timeout is left as a zombie rather than stall the farm.
  kill(SIGKILL);
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    while (::poll(&p, 1, kReapWaitMs) < 0 && errno == EINTR) {
    }
    try_reap();
    return;
  }
  // Without a pidfd there is nothing to poll: SIGKILL makes this wait short.
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) < 0 && errno == EINTR) {
  }
  if (r == pid_) status_ = decode_wait_status(status);
}

error_code ChildProcess::start(const ChildSpec& spec) {
  if (pid_ > 0) return asio::error::already_started;
  if (spec.argv.empty() || spec.argv.front().empty() || has_nul(spec.cwd) ||
      std::any_of(spec.argv.begin(), spec.argv.end(), has_nul) ||
      std::any_of(spec.env.begin(), spec.env.end(), has_nul))
    return asio::error::invalid_argument;
  std::vector<char*> argv = c_strings(spec.argv);
  std::vector<char*> envp = c_strings(spec.env);

  // Parent's end first, child's end second.
  Fd in_write, in_read, out_read, out_write, err_read, err_write;
  if (error_code ec = make_pipe(in_read, in_write)) return ec;
  if (error_code ec = make_pipe(out_read, out_write)) return ec;
  if (error_code ec = make_pipe(err_read, err_write)) return ec;

  SpawnSetup setup;
  if (int rc = posix_spawnattr_init(&setup.attr)) return errno_code(rc);
  setup.attr_ok = true;
  if (int rc = posix_spawn_file_actions_init(&setup.actions)) return errno_code(rc);
  setup.actions_ok = true;

  // A new process group (pgid = the child's pid) for kill(-pgid); an empty signal mask and every
  // signal at its default action (SIG_IGN is inherited across execve: without this, scripts
  // would run with the farm's ignored SIGPIPE).
  sigset_t empty, all;
  sigemptyset(&empty);
  sigfillset(&all);
  const short flags = POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  int rc = posix_spawnattr_setflags(&setup.attr, flags);
  if (rc == 0) rc = posix_spawnattr_setpgroup(&setup.attr, 0);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&setup.attr, &empty);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&setup.attr, &all);
  // dup2 clears close-on-exec on 0, 1 and 2; closefrom(3) then closes every other descriptor,
  // including those the farm (or a library, or Asio's sockets) opened without O_CLOEXEC.
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, in_read.get(), 0);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, out_write.get(), 1);
  if (rc == 0) rc = posix_spawn_file_actions_adddup2(&setup.actions, err_write.get(), 2);
  if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  if (rc == 0 && !spec.cwd.empty())
    rc = posix_spawn_file_actions_addchdir_np(&setup.actions, spec.cwd.c_str());
  if (rc != 0) return errno_code(rc);

  // glibc's posix_spawn (clone with CLONE_VFORK) returns only after the child's execve, with its
  // errno when a file action or execve failed; it has then reaped that child itself.
  pid_t pid = -1;
  rc = ::posix_spawn(&pid, argv[0], &setup.actions, &setup.attr, argv.data(), envp.data());
  if (rc != 0) return errno_code(rc);
  pid_ = pid;

  in_read.reset();
  out_write.reset();
  err_write.reset();

  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));  // always close-on-exec
  if (pidfd.get() < 0) {
    // No way to wait for it without blocking later: give up on it now.
    const error_code ec = last_error();
    kill_and_reap(-1);
    return ec;
  }

  // Asio owns a descriptor only once assign() succeeded.
  auto adopt = [](asio::posix::stream_descriptor& d, Fd& fd, error_code& ec) {
    if (ec) return;
    d.assign(fd.get(), ec);
    if (!ec) fd.release();
  };
  error_code ec;
  adopt(pidfd_, pidfd, ec);
  adopt(stdin_, in_write, ec);
  adopt(stdout_, out_read, ec);
  adopt(stderr_, err_read, ec);
  // Only the parent's ends: the child's ends share the open file description, and a child
  // whose stdin is non-blocking fails its reads with EAGAIN.
  if (!ec) stdin_.non_blocking(true, ec);
  if (!ec) stdout_.non_blocking(true, ec);
  if (!ec) stderr_.non_blocking(true, ec);
  if (ec) {
    close_pipes();
    kill_and_reap(pidfd_.is_open() ? pidfd_.native_handle() : pidfd.get());
    return ec;
  }
  return {};
}

Task<ChildProcess::IoResult> ChildProcess::write_stdin(std::string_view bytes) {
  co_return co_await asio::async_write(stdin_, asio::buffer(bytes), use_tuple);
}

void ChildProcess::close_stdin() {
  error_code ec;
  stdin_.close(ec);
}

Task<ChildProcess::IoResult> ChildProcess::read_stdout_some(asio::mutable_buffer buffer) {
  co_return co_await stdout_.async_read_some(buffer, use_tuple);
}

Task<ChildProcess::IoResult> ChildProcess::read_stderr_some(asio::mutable_buffer buffer) {
  co_return co_await stderr_.async_read_some(buffer, use_tuple);
}

void ChildProcess::close_pipes() {
  error_code ec;
  stdin_.close(ec);
  stdout_.close(ec);
  stderr_.close(ec);
}

error_code ChildProcess::kill(int signal) {
  // Only while the child is unreaped: then its pid, and so its group id, are still ours.
  if (pid_ <= 0 || status_) return errno_code(ESRCH);
  error_code ec;
  if (::kill(-pid_, signal) != 0) ec = last_error();
  // A child that moved to another group (setpgid) is not reached through its old group.
  if (::getpgid(pid_) != pid_) ec = ::kill(pid_, signal) == 0 ? error_code() : last_error();
  return ec;
}

bool ChildProcess::try_reap() {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return false;  // still running
  if (r < 0) {
    // ECHILD: someone else reaped it (SIGCHLD set to SIG_IGN): how it ended is lost.
    ExitStatus lost;
    lost.error = last_error();
    status_ = lost;
  } else {
    status_ = decode_wait_status(status);
  }
  error_code ec;
  pidfd_.close(ec);
  return true;
}

Task<error_code> ChildProcess::wait_exited() {
  if (pid_ <= 0) co_return asio::error::not_connected;
  for (;;) {
    if (status_) co_return error_code();
    // Asio registers descriptors edge-triggered: an exit that happened before this wait was
    // queued would never complete it. So look first (the pidfd stays readable once the child
    // has exited), and wait only when it has not.
    pollfd p{pidfd_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) co_return error_code();
    auto [ec] = co_await pidfd_.async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
    if (ec && !status_) co_return ec;
  }
}

Task<ExitStatus> ChildProcess::wait() {
  if (pid_ <= 0) {
    ExitStatus none;
    none.error = asio::error::not_connected;
    co_return none;
  }
  for (;;) {
    // Reap first, wait second: see wait_exited() on edge-triggered registration.
    if (try_reap()) co_return *status_;
    auto [ec] = co_await pidfd_.async_wait(asio::posix::descriptor_base::wait_read, use_tuple);
    if (ec && !status_) {
      ExitStatus cancelled;
      cancelled.error = ec;
      co_return cancelled;
    }
  }
}

Task<ChildResult> run_child(asio::any_io_executor ex, ChildSpec spec) {
  ChildResult result;
  ChildProcess child(ex);
  if (error_code ec = child.start(spec)) {
    result.spawn_error = ec;
    co_return result;
  }
  RunState state(ex);
  co_await (run_io(child, spec, result, state) &&
            watch_deadline(child, spec.deadline, result, state));
  // The child has exited but is not reaped yet, so its group id is still reserved: whatever it
  // left running there (a daemon that closed its output) goes now.
  child.kill(SIGKILL);
  result.status = co_await child.wait();
  co_return result;
}

}  // namespace protofarm
