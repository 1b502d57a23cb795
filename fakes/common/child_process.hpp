// Child processes for the fakes (CGI scripts): spawned without a shell, driven through pipes on
// the farm's io_context, reaped through a pidfd, never blocking the loop.
//
// Spawning: posix_spawn (no PATH search, no shell) of argv[0] with exactly the environment given
// (nothing is inherited) in the working directory given, in a new process group of its own
// (pgid = pid) so that a deadline or a shutdown kills the child and everything it started. The
// child gets three pipes as stdin, stdout and stderr and no other descriptor of the farm (every
// descriptor from 3 up is closed in the child, whether or not it was opened close-on-exec), an
// empty signal mask and every signal at its default action (the farm ignores SIGPIPE; a script
// must not inherit that). A program that cannot be run (missing, not executable, bad working
// directory) is an error value from start() or in ChildResult::spawn_error: no child is left.
//
// Reaping: a pidfd (pidfd_open, Linux 5.3 or later) on the io_context becomes readable when the
// child exits; only then is it reaped with waitpid(WNOHANG). No SIGCHLD handler, no periodic
// waitpid, no thread per child.
//
// Requirements on the process: SIGPIPE must be ignored (signal(SIGPIPE, SIG_IGN)), so that
// writing to a child that closed its stdin is an EPIPE error value and not the farm's death (pipes
// have no MSG_NOSIGNAL); and SIGCHLD must not be ignored, or the kernel would reap children
// before wait() could see how they ended. Orphans of a killed script (its grandchildren) are
// reparented to init, which reaps them; a farm running as PID 1 (a container without an init)
// would collect them as zombies, so run the image with one (docker run --init, tini).
//
// Ownership: a ChildProcess owns its child, the parent's ends of the pipes and the pidfd. Its
// destructor kills a child that is still unreaped (SIGKILL to its process group) and reaps it.
// As with any Asio I/O object, it must outlive the operations started on it. run_child() owns its
// ChildProcess in its coroutine frame, so destroying that frame (farm shutdown) kills the child.
//
// Errors are values: the asynchronous calls return error codes (asio::error::eof at the end of
// output, operation_aborted when cancelled or closed, EPIPE when the child no longer reads its
// stdin). Exceptions only for programming errors and memory exhaustion.
#pragma once

#include <sys/types.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "fakes/common/asio.hpp"
#include "fakes/common/config.hpp"  // Duration

namespace protofarm {

struct ChildSpec {
  // argv[0] is the program's path, used as given: no PATH search (a relative path is resolved
  // in cwd). Must not be empty.
  std::vector<std::string> argv;
  // The child's whole environment, "NAME=value" each; nothing of the farm's is inherited.
  std::vector<std::string> env;
  // The child's working directory; empty: the farm's own.
  std::string cwd;

  // What run_child() uses (start() ignores these):
  std::string stdin_bytes;  // written to the child's stdin, which is then closed
  // After this the child's process group is killed (SIGKILL). Zero, negative or
  // Duration::max(): no deadline.
  Duration deadline = std::chrono::seconds(30);
  // Output kept; past a limit the rest is read and discarded (so that the child is never stuck
  // on a full pipe) and the result says it was truncated.
  std::size_t max_stdout = std::size_t{16} * 1024 * 1024;
  std::size_t max_stderr = std::size_t{1024} * 1024;
};

// How a child ended. Exactly one of exited() and signaled() is true once wait() has reaped the
// child; neither when wait() ended with `error` (cancelled, or not started).
struct ExitStatus {
  int code = -1;     // the exit code (0 to 255) when the child exited
  int signal = 0;    // the signal that killed it
  error_code error;  // why there is no status

  bool exited() const { return !error && code >= 0; }
  bool signaled() const { return !error && signal > 0; }
  bool success() const { return exited() && code == 0; }
  std::string describe() const;  // "exit 0", "signal 9 (SIGKILL)", or the error
};

struct ChildResult {
  error_code spawn_error;  // the child could not be started; nothing else is set
  ExitStatus status;
  std::string stdout_bytes;  // at most max_stdout bytes
  std::string stderr_bytes;  // at most max_stderr bytes
  bool killed_on_deadline = false;
  bool stdout_truncated = false;
  bool stderr_truncated = false;

  bool truncated() const { return stdout_truncated || stderr_truncated; }
};

// Runs a child to completion: feeds spec.stdin_bytes (then closes stdin) while reading stdout
// and stderr, all concurrently, so a child that writes much before it reads cannot deadlock.
// Completes when the child has exited and both outputs reached end of file. If the child stops
// reading its stdin, the rest of the input is dropped (EPIPE) and that is not an error.
//
// Deadline: when spec.deadline passes first, the child's process group is killed (SIGKILL) and
// killed_on_deadline is set; output written before the kill is kept. Should a process that left
// the group still hold the pipes open, reading stops kKillGrace after the kill.
//
// When the child has exited, whatever it left running in its process group is killed too
// (before the child is reaped, while its group id is still reserved), so that a script cannot
// leave processes behind the farm.
Task<ChildResult> run_child(asio::any_io_executor ex, ChildSpec spec);

// How long run_child() keeps reading after a deadline kill.
inline constexpr Duration kKillGrace = std::chrono::seconds(1);

// One child process, for a session that forwards output as it arrives. The calls on one stream
// follow Asio's rule: one read (or write) at a time on each of stdin, stdout, stderr; the three
// streams and wait() may all be in progress at once.
class ChildProcess {
 public:
  using IoResult = std::tuple<error_code, std::size_t>;

  explicit ChildProcess(const asio::any_io_executor& ex);
  // Kills an unreaped child's process group (SIGKILL) and reaps the child; see the .cpp.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Spawns spec.argv with spec.env in spec.cwd (the other fields are run_child()'s). Returns
  // the reason when it cannot (ENOENT, EACCES, ENOEXEC, ...; invalid_argument for an empty argv
  // or a NUL byte in a string; already_started on a second call). Synchronous, and quick:
  // posix_spawn returns as soon as the child has called execve.
  error_code start(const ChildSpec& spec);

  // Writes all of `bytes` (which must stay valid until this completes). EPIPE when the child
  // does not read its stdin any more; operation_aborted when close_stdin() was called meanwhile.
  Task<IoResult> write_stdin(std::string_view bytes);
  // The child sees end of file on its stdin. A write in progress ends with operation_aborted.
  void close_stdin();
  // What the child has written so far (at least one byte), or asio::error::eof at the end.
  Task<IoResult> read_stdout_some(asio::mutable_buffer buffer);
  Task<IoResult> read_stderr_some(asio::mutable_buffer buffer);
  // Closes the parent's ends of all three pipes; operations in progress on them end with
  // operation_aborted. The child gets EOF on stdin and EPIPE when it writes.
  void close_pipes();

  // Sends `signal` to the child's process group (and to the child itself should it have moved
  // to another group). no_such_process once the child has been reaped: after that its pid and
  // group id may belong to someone else.
  error_code kill(int signal);

  // Completes when the child has exited, without reaping it: until wait() it stays a zombie
  // that holds its pid and group id, so kill() can still reach what it left in its group.
  // operation_aborted when cancelled.
  Task<error_code> wait_exited();
  // Waits until the child has exited, reaps it and returns how it ended (at once when it was
  // reaped already). On cancellation the status carries operation_aborted and the child is left
  // as it was.
  Task<ExitStatus> wait();

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }
  bool reaped() const { return status_.has_value(); }
  const std::optional<ExitStatus>& exit_status() const { return status_; }

 private:
  // Reaps the child if it has exited (waitpid WNOHANG); true when it has been reaped.
  bool try_reap();
  // Kills the child's group and reaps it synchronously (destructor, failed start).
  void kill_and_reap(int pidfd);

  pid_t pid_ = -1;
  std::optional<ExitStatus> status_;
  asio::posix::stream_descriptor stdin_;
  asio::posix::stream_descriptor stdout_;
  asio::posix::stream_descriptor stderr_;
  asio::posix::stream_descriptor pidfd_;
};

}  // namespace protofarm
