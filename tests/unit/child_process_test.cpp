// Child processes: spawning without a shell, concurrent pipes, exit status, deadlines, process
// groups, output limits, and a loop that never blocks. Every test runs on its own io_context;
// /bin/sh appears only as the child program.
#include "fakes/common/child_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/detached.hpp>
#include <boost/asio/this_coro.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace protofarm {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// The module requires SIGPIPE to be ignored, as the farm does (see child_process.hpp).
class IgnoreSigpipe : public ::testing::Environment {
 public:
  void SetUp() override { std::signal(SIGPIPE, SIG_IGN); }
};
[[maybe_unused]] const auto* const kIgnoreSigpipe =
    ::testing::AddGlobalTestEnvironment(new IgnoreSigpipe);

// A bound on every test's loop, so that a hang fails one test instead of stalling the suite.
constexpr auto kTestLimit = std::chrono::seconds(20);
const std::vector<std::string> kPath = {"PATH=/usr/bin:/bin"};

ChildSpec spec_of(std::vector<std::string> argv, std::string input = {}) {
  ChildSpec spec;
  spec.argv = std::move(argv);
  spec.env = kPath;
  spec.stdin_bytes = std::move(input);
  spec.deadline = std::chrono::seconds(10);
  return spec;
}

ChildSpec shell(const std::string& script) { return spec_of({"/bin/sh", "-c", script}); }

long ms_since(Clock::time_point start) {
  return static_cast<long>(std::chrono::duration_cast<milliseconds>(Clock::now() - start).count());
}

// Whether `pid` (not our child) has exited, or does so within a few seconds. A pidfd on it
// becomes readable when it exits, zombie or not: an event, not a sleep.
bool exits_soon(pid_t pid) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // gone and reaped already
  pollfd p{fd, POLLIN, 0};
  const int n = ::poll(&p, 1, 3000);
  ::close(fd);
  if (n != 1) ::kill(pid, SIGKILL);  // do not leave it behind a failed test
  return n == 1;
}

class ChildProcessTest : public ::testing::Test {
 protected:
  // run_child(spec) on the test's io_context, to completion. (The results are shared with the
  // handlers: after a timeout, a later run could still complete an earlier coroutine.)
  ChildResult run(ChildSpec spec) {
    auto out = std::make_shared<std::optional<ChildResult>>();
    asio::co_spawn(io_, run_child(io_.get_executor(), std::move(spec)),
                   [out](const std::exception_ptr& e, ChildResult r) {
                     if (e) std::rethrow_exception(e);
                     *out = std::move(r);
                   });
    io_.restart();
    io_.run_for(kTestLimit);
    EXPECT_TRUE(out->has_value()) << "run_child did not finish";
    return out->value_or(ChildResult{});
  }

  // Runs `body` on the test's io_context to completion.
  void run_task(Task<void> body) {
    auto done = std::make_shared<bool>(false);
    asio::co_spawn(io_, std::move(body), [done](const std::exception_ptr& e) {
      if (e) std::rethrow_exception(e);
      *done = true;
    });
    io_.restart();
    io_.run_for(kTestLimit);
    EXPECT_TRUE(*done) << "the test body did not finish";
  }

  asio::io_context io_;
};

TEST_F(ChildProcessTest, CatEchoesAMebibyteFedAndReadConcurrently) {
  // cat writes as it reads; feeding all input before reading would fill both 64 KiB pipes and
  // deadlock until the deadline.
  std::string input(1 << 20, '\0');
  for (std::size_t i = 0; i < input.size(); ++i)
    input[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
  const ChildResult r = run(spec_of({"/bin/cat"}, input));
  EXPECT_FALSE(r.spawn_error) << r.spawn_error.message();
  EXPECT_FALSE(r.killed_on_deadline);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes.size(), input.size());
  EXPECT_TRUE(r.stdout_bytes == input) << "the output differs from the input";
  EXPECT_FALSE(r.truncated());
}

TEST_F(ChildProcessTest, EnvironmentIsExactlyWhatWasGiven) {
  ::setenv("PROTOFARM_CHILD_TEST_LEAK", "inherited", 1);
  ChildSpec spec = spec_of({"/usr/bin/env"});
  spec.env = {"A=1", "B=two words", "EMPTY="};
  ChildResult r = run(spec);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes, "A=1\nB=two words\nEMPTY=\n");

  spec.env.clear();
  r = run(spec);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes, "");
  ::unsetenv("PROTOFARM_CHILD_TEST_LEAK");
}

TEST_F(ChildProcessTest, ExitCodeAndSignal) {
  ChildResult r = run(shell("exit 7"));
  EXPECT_TRUE(r.status.exited());
  EXPECT_FALSE(r.status.signaled());
  EXPECT_EQ(r.status.code, 7);
  EXPECT_FALSE(r.status.success());
  EXPECT_EQ(r.status.describe(), "exit 7");

  r = run(shell("kill -TERM $$"));
  EXPECT_FALSE(r.status.exited());
  EXPECT_TRUE(r.status.signaled());
  EXPECT_EQ(r.status.signal, SIGTERM);
  EXPECT_EQ(r.status.describe(), "signal 15 (SIGTERM)");
  EXPECT_FALSE(r.killed_on_deadline);
}

TEST_F(ChildProcessTest, StderrIsCapturedSeparately) {
  const ChildResult r = run(shell("echo out; echo err >&2; echo more"));
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes, "out\nmore\n");
  EXPECT_EQ(r.stderr_bytes, "err\n");
}

TEST_F(ChildProcessTest, AMissingProgramIsASpawnError) {
  const ChildResult r = run(spec_of({"/nonexistent/program", "x"}));
  EXPECT_EQ(r.spawn_error, boost::system::errc::no_such_file_or_directory)
      << r.spawn_error.message();
  EXPECT_FALSE(r.status.exited());
  EXPECT_FALSE(r.status.signaled());

  // No PATH search and no shell: a bare name is a path relative to the working directory.
  EXPECT_EQ(run(spec_of({"sh", "-c", "true"})).spawn_error,
            boost::system::errc::no_such_file_or_directory);

  ChildProcess child(io_.get_executor());
  EXPECT_EQ(child.start(spec_of({"/nonexistent/program"})),
            boost::system::errc::no_such_file_or_directory);
  EXPECT_FALSE(child.started());
  EXPECT_EQ(child.start(spec_of({})), asio::error::invalid_argument);
  EXPECT_EQ(child.start(spec_of({std::string("/bin/t\0rue", 10)})), asio::error::invalid_argument);
}

TEST_F(ChildProcessTest, ANonExecutableFileIsASpawnError) {
  char path[] = "/tmp/protofarm-child-XXXXXX";
  const int fd = ::mkstemp(path);  // mode 0600: not executable, not even for root
  ASSERT_GE(fd, 0);
  const std::string script = "#!/bin/sh\necho ran\n";
  ASSERT_EQ(::write(fd, script.data(), script.size()), static_cast<ssize_t>(script.size()));
  ::close(fd);
  const ChildResult r = run(spec_of({path}));
  EXPECT_EQ(r.spawn_error, boost::system::errc::permission_denied) << r.spawn_error.message();
  EXPECT_EQ(r.stdout_bytes, "");

  // The same file made executable runs: the error above was about the mode.
  ASSERT_EQ(::chmod(path, 0700), 0);
  const ChildResult ok = run(spec_of({path}));
  EXPECT_FALSE(ok.spawn_error) << ok.spawn_error.message();
  EXPECT_EQ(ok.stdout_bytes, "ran\n");
  ::unlink(path);
}

TEST_F(ChildProcessTest, RunsInTheWorkingDirectoryGiven) {
  const std::string dir = std::filesystem::canonical(std::filesystem::temp_directory_path());
  ChildSpec spec = spec_of({"/bin/pwd"});
  spec.cwd = dir;
  ChildResult r = run(spec);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes, dir + "\n");

  spec.cwd = "/nonexistent/dir";
  r = run(spec);
  EXPECT_EQ(r.spawn_error, boost::system::errc::no_such_file_or_directory);
}

TEST_F(ChildProcessTest, TheDeadlineKillsTheChildQuickly) {
  ChildSpec spec = spec_of({"/bin/sleep", "30"});
  spec.deadline = milliseconds(200);
  const auto start = Clock::now();
  const ChildResult r = run(spec);
  const long took = ms_since(start);
  EXPECT_TRUE(r.killed_on_deadline);
  EXPECT_TRUE(r.status.signaled()) << r.status.describe();
  EXPECT_EQ(r.status.signal, SIGKILL);
  EXPECT_GE(took, 190);
  EXPECT_LT(took, 2000);
}

TEST_F(ChildProcessTest, OutputWrittenBeforeTheDeadlineIsKept) {
  ChildSpec spec = shell("echo before; echo oops >&2; exec /bin/sleep 30");
  spec.deadline = milliseconds(200);
  const ChildResult r = run(spec);
  EXPECT_TRUE(r.killed_on_deadline);
  EXPECT_EQ(r.stdout_bytes, "before\n");
  EXPECT_EQ(r.stderr_bytes, "oops\n");
}

TEST_F(ChildProcessTest, TheDeadlineKillsGrandchildrenToo) {
  // The grandchild holds stdout open: end of file comes only once it is dead as well.
  ChildSpec spec = shell("/bin/sleep 30 & echo $!; wait");
  spec.deadline = milliseconds(300);
  const auto start = Clock::now();
  const ChildResult r = run(spec);
  const long took = ms_since(start);
  EXPECT_TRUE(r.killed_on_deadline);
  // Well before kKillGrace: the pipes reached end of file because the whole group died.
  EXPECT_LT(took, 300 + std::chrono::duration_cast<milliseconds>(kKillGrace).count());
  const pid_t grandchild = std::atoi(r.stdout_bytes.c_str());
  ASSERT_GT(grandchild, 0) << r.stdout_bytes;
  EXPECT_TRUE(exits_soon(grandchild)) << "grandchild " << grandchild << " is still running";
}

TEST_F(ChildProcessTest, AProcessThatLeftTheGroupDoesNotHoldTheResultUp) {
  // setsid takes the grandchild out of the group: the kill misses it and it keeps stdout open,
  // so reading stops kKillGrace after the kill, with what was written before.
  ChildSpec spec = shell("/usr/bin/setsid /bin/sleep 30 & echo $!; exec /bin/sleep 30");
  spec.deadline = milliseconds(200);
  const auto start = Clock::now();
  const ChildResult r = run(spec);
  const long took = ms_since(start);
  const pid_t escaped = std::atoi(r.stdout_bytes.c_str());
  if (escaped > 0) ::kill(escaped, SIGKILL);
  EXPECT_TRUE(r.killed_on_deadline);
  EXPECT_TRUE(r.status.signaled()) << r.status.describe();
  EXPECT_GT(escaped, 0) << r.stdout_bytes;
  EXPECT_EQ(r.stdout_bytes, std::to_string(escaped) + "\n");
  const long grace = std::chrono::duration_cast<milliseconds>(kKillGrace).count();
  EXPECT_GE(took, 200 + grace - 10);
  EXPECT_LT(took, 200 + grace + 1500);
}

TEST_F(ChildProcessTest, WhatTheChildLeavesInItsGroupIsKilledWhenItExits) {
  const ChildResult r = run(shell("/bin/sleep 30 </dev/null >/dev/null 2>&1 & echo $!"));
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_FALSE(r.killed_on_deadline);
  const pid_t grandchild = std::atoi(r.stdout_bytes.c_str());
  ASSERT_GT(grandchild, 0) << r.stdout_bytes;
  EXPECT_TRUE(exits_soon(grandchild)) << "grandchild " << grandchild << " is still running";
}

TEST_F(ChildProcessTest, OutputOverTheLimitIsTruncatedAndTheChildFinishes) {
  // 1 MiB is far more than a pipe holds: the child finishes only if the excess is read.
  ChildSpec spec = shell("head -c 1048576 /dev/zero && echo finished >&2");
  spec.max_stdout = 1000;
  spec.max_stderr = 3;
  const ChildResult r = run(spec);
  EXPECT_FALSE(r.killed_on_deadline);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes, std::string(1000, '\0'));
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_EQ(r.stderr_bytes, "fin");
  EXPECT_TRUE(r.stderr_truncated);

  spec.max_stdout = 1 << 20;  // exactly the limit is not truncated
  spec.max_stderr = 9;
  const ChildResult exact = run(spec);
  EXPECT_EQ(exact.stdout_bytes.size(), std::size_t{1} << 20);
  EXPECT_FALSE(exact.truncated());
  EXPECT_EQ(exact.stderr_bytes, "finished\n");
}

TEST_F(ChildProcessTest, AChildThatDoesNotReadItsInputIsFine) {
  // Writing gets EPIPE (SIGPIPE is ignored) and the rest of the input is dropped, while the
  // child goes on writing more than a pipe holds: none of it may be lost.
  const ChildResult r =
      run(spec_of({"/bin/sh", "-c", "exec 0<&-; /usr/bin/head -c 300000 /dev/zero"},
                  std::string(1 << 20, 'x')));
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  EXPECT_EQ(r.stdout_bytes.size(), 300000u);
  EXPECT_FALSE(r.killed_on_deadline);
}

TEST_F(ChildProcessTest, TheLoopIsNeverBlocked) {
  std::optional<ChildResult> result;
  asio::co_spawn(io_, run_child(io_.get_executor(), spec_of({"/bin/sleep", "0.3"})),
                 [&](const std::exception_ptr& e, ChildResult r) {
                   if (e) std::rethrow_exception(e);
                   result = std::move(r);
                 });
  const auto start = Clock::now();
  long timer_fired_ms = -1;
  bool child_done_when_timer_fired = true;
  asio::co_spawn(
      io_,
      [&]() -> Task<void> {
        asio::steady_timer timer(io_, milliseconds(10));
        co_await timer.async_wait(use_tuple);
        timer_fired_ms = ms_since(start);
        child_done_when_timer_fired = result.has_value();
      },
      asio::detached);
  io_.run_for(kTestLimit);
  ASSERT_TRUE(result.has_value());
  EXPECT_TRUE(result->status.success()) << result->status.describe();
  EXPECT_GE(ms_since(start), 290);
  EXPECT_GE(timer_fired_ms, 10);
  EXPECT_LT(timer_fired_ms, 150) << "the 10 ms timer was held up by the child";
  EXPECT_FALSE(child_done_when_timer_fired);
}

TEST_F(ChildProcessTest, OnlyStdinStdoutAndStderrAreInherited) {
  // A descriptor opened without O_CLOEXEC, as Asio opens its sockets.
  const int leak = ::fcntl(STDERR_FILENO, F_DUPFD, 50);
  ASSERT_GE(leak, 50);
  const ChildResult r = run(spec_of({"/bin/ls", "/proc/self/fd"}));
  ::close(leak);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  // 0, 1, 2, and the directory ls is reading.
  EXPECT_EQ(r.stdout_bytes, "0\n1\n2\n3\n");
}

TEST_F(ChildProcessTest, SignalsAreAtTheirDefaultsInTheChild) {
  // The test process ignores SIGPIPE (like the farm) and blocks SIGUSR1 here; the child must
  // inherit neither.
  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  const ChildResult r = run(spec_of({"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status"}));
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_TRUE(r.status.success()) << r.status.describe();
  unsigned long long blocked = ~0ull, ignored = ~0ull;
  ASSERT_EQ(std::sscanf(r.stdout_bytes.c_str(), "SigBlk: %llx SigIgn: %llx", &blocked, &ignored), 2)
      << r.stdout_bytes;
  EXPECT_EQ(blocked, 0u) << r.stdout_bytes;
  // Bit n-1 is signal n. glibc's posix_spawn itself leaves its two internal signals (32 and 33,
  // below SIGRTMIN, never used by programs) ignored in the child; every other is at default.
  const unsigned long long glibc_internal = (1ull << 31) | (1ull << 32);
  EXPECT_EQ(ignored & ~glibc_internal, 0u) << r.stdout_bytes;
}

TEST_F(ChildProcessTest, StreamsOutputAsItArrives) {
  ChildProcess child(io_.get_executor());
  ASSERT_FALSE(child.start(spec_of({"/bin/cat"})));
  ASSERT_TRUE(child.started());
  EXPECT_EQ(::getpgid(child.pid()), child.pid()) << "not in a process group of its own";

  // Reads until `want` bytes came (or an error).
  auto read_n = [&](std::size_t want) -> Task<std::string> {
    std::string got;
    char buf[256];
    while (got.size() < want) {
      auto [ec, n] = co_await child.read_stdout_some(asio::buffer(buf));
      got.append(buf, n);
      if (ec) break;
    }
    co_return got;
  };
  std::optional<ExitStatus> status;
  error_code end;
  run_task([&]() -> Task<void> {
    // Each line comes back while stdin is still open: output is not held until the end.
    auto [ec1, n1] = co_await child.write_stdin("hello\n");
    EXPECT_FALSE(ec1);
    EXPECT_EQ(n1, 6u);
    EXPECT_EQ(co_await read_n(6), "hello\n");
    co_await child.write_stdin("again\n");
    EXPECT_EQ(co_await read_n(6), "again\n");
    child.close_stdin();
    char buf[16];
    auto [ec, n] = co_await child.read_stdout_some(asio::buffer(buf));
    end = ec;
    EXPECT_EQ(n, 0u);
    status = co_await child.wait();
  }());
  EXPECT_EQ(end, asio::error::eof);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->success()) << status->describe();
  EXPECT_TRUE(child.reaped());
}

TEST_F(ChildProcessTest, KillSignalsTheChild) {
  ChildProcess child(io_.get_executor());
  ASSERT_FALSE(child.start(spec_of({"/bin/sleep", "30"})));
  EXPECT_FALSE(child.kill(SIGTERM));
  std::optional<ExitStatus> status;
  run_task([&]() -> Task<void> { status = co_await child.wait(); }());
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(status->signaled()) << status->describe();
  EXPECT_EQ(status->signal, SIGTERM);
  // Reaped: its pid may be someone else's now, so kill() refuses.
  EXPECT_EQ(child.kill(SIGTERM), boost::system::errc::no_such_process);
}

TEST_F(ChildProcessTest, TheDestructorKillsAndReapsALiveChild) {
  pid_t pid = -1;
  const auto start = Clock::now();
  {
    ChildProcess child(io_.get_executor());
    ASSERT_FALSE(child.start(spec_of({"/bin/sleep", "30"})));
    pid = child.pid();
  }
  EXPECT_LT(ms_since(start), 2000);
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  EXPECT_EQ(r, -1) << "the child was not reaped";
  EXPECT_EQ(errno, ECHILD);
  if (r == 0) {  // do not leave it behind a failed test
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
}

TEST_F(ChildProcessTest, DestroyingTheLoopKillsARunningChild) {
  // Farm shutdown: the io_context goes away while a coroutine that owns a child waits for it.
  pid_t pid = -1;
  {
    asio::io_context io;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          ChildProcess child(co_await asio::this_coro::executor);
          if (child.start(spec_of({"/bin/sleep", "30"}))) co_return;
          pid = child.pid();
          co_await child.wait();
        },
        asio::detached);
    while (pid < 0 && io.run_one_for(std::chrono::seconds(5))) {
    }
    ASSERT_GT(pid, 0);
  }
  int status = 0;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  EXPECT_EQ(r, -1) << "the child was not reaped";
  EXPECT_EQ(errno, ECHILD);
  if (r == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
}

}  // namespace
}  // namespace protofarm
