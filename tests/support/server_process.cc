#include "support/server_process.h"

#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "leadflow/tls/grpc_tls.h"
#include "leadflow/v1/service.grpc.pb.h"

namespace leadflow::testing {

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp", "/leadflow-test-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  REQUIRE(mkdtemp(buffer.data()) != nullptr);
  path_ = buffer.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ChildProcess::~ChildProcess() {
  if (running()) Stop();
}

std::string ChildProcess::Start(const char* binary_env, const std::vector<std::string>& args,
                                const std::string& marker) {
  const char* binary = std::getenv(binary_env);
  INFO("environment variable " << binary_env);
  REQUIRE(binary != nullptr);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<std::string> argv_strings = {binary};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    // Both streams, as a supervisor's log collector takes them: leadflowd
    // logs warnings and errors to stderr.
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& arg : argv_strings) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary, argv.data());
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];
  output_ = std::make_shared<std::string>();
  output_mu_ = std::make_shared<std::mutex>();
  std::string seen;
  std::string found;
  bool ready = false;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (!ready && absl::Now() < deadline) {
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0) break;
    seen.append(buffer, static_cast<size_t>(n));
    const size_t at = seen.find(marker);
    const size_t eol = at == std::string::npos ? at : seen.find('\n', at);
    if (eol != std::string::npos) {
      found = seen.substr(at + marker.size(), eol - at - marker.size());
      ready = true;
    }
  }
  INFO(binary << " printed: " << seen);
  REQUIRE(ready);
  *output_ = seen;
  drain_ = std::thread([fd = stdout_fd_, out = output_, mu = output_mu_] {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
      std::lock_guard<std::mutex> lock(*mu);
      out->append(buffer, static_cast<size_t>(n));
    }
  });
  return found;
}

void ChildProcess::Reap(int signal_number) {
  kill(pid_, signal_number);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  close(stdout_fd_);
}

std::optional<int> ChildProcess::WaitExit(absl::Duration timeout) {
  if (!running()) return exit_status_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      if (drain_.joinable()) drain_.join();
      close(stdout_fd_);
      return exit_status_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

int ChildProcess::Stop() {
  if (!running()) return -1;
  kill(pid_, SIGCONT);  // a paused process would never see the SIGTERM
  Reap(SIGTERM);
  return exit_status_;
}

void ChildProcess::Kill() {
  if (running()) Reap(SIGKILL);
}

void ChildProcess::Pause() {
  if (running()) kill(pid_, SIGSTOP);
}

void ChildProcess::Resume() {
  if (running()) kill(pid_, SIGCONT);
}

std::string ChildProcess::Output() const {
  if (output_mu_ == nullptr) return "";
  std::lock_guard<std::mutex> lock(*output_mu_);
  return *output_;
}

void ServerProcess::Start() {
  std::vector<std::string> args = {"--data-dir", data_dir_, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  target_ = process_.Start("LEADFLOWD", args, "listening on ");
}

std::string ServerProcess::AdminKeyFile() const {
  for (size_t i = 0; i + 1 < extra_args_.size(); ++i) {
    if (extra_args_[i] == "--admin-key-file") return extra_args_[i + 1];
  }
  return data_dir_ + "/admin.key";
}

std::string ServerProcess::AdminKey() const {
  std::ifstream in(AdminKeyFile());
  std::string key;
  std::getline(in, key);
  REQUIRE_FALSE(key.empty());
  return key;
}

std::shared_ptr<grpc::Channel> ServerProcess::Channel() const {
  return ChannelWithToken(AdminKey());
}

std::shared_ptr<grpc::Channel> ServerProcess::ChannelWithToken(const std::string& token) const {
  auto channel = tls::ChannelTo(target_, {}, token);
  REQUIRE(channel.ok());
  return *channel;
}

std::unique_ptr<grpc::ClientContext> Deadline(int seconds) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  return ctx;
}

grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response) {
  grpc::GenericStub generic(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice slice(request);
  grpc::ByteBuffer request_buffer(&slice, 1);
  grpc::ByteBuffer response_buffer;
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  grpc::Status status;
  generic.UnaryCall(&ctx, method, grpc::StubOptions(), &request_buffer, &response_buffer,
                    [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = std::move(s);
                      finished = true;
                      cv.notify_all();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  response->clear();
  std::vector<grpc::Slice> slices;
  if (status.ok() && response_buffer.Dump(&slices).ok()) {
    for (const auto& s : slices)
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

bool WaitUntilIdle(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  auto admin = v1::AdminService::NewStub(channel);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    v1::ServerStatus status;
    auto ctx = Deadline(5);
    if (admin->GetServerStatus(ctx.get(), {}, &status).ok() && status.total_lag() == 0 &&
        status.unowned_partitions() == 0) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

bool WaitUntilClusterIdle(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    bool idle = true;
    std::map<std::pair<std::string, int32_t>, int> owners;
    for (const auto& channel : channels) {
      v1::ServerStatus status;
      auto ctx = Deadline(5);
      if (!v1::AdminService::NewStub(channel)->GetServerStatus(ctx.get(), {}, &status).ok() ||
          status.total_lag() != 0) {
        idle = false;
        break;
      }
      for (const auto& row : status.processors()) {
        if (!row.replicated() && row.owned()) ++owners[{row.processor(), row.partition()}];
        if (!row.replicated()) owners.try_emplace({row.processor(), row.partition()}, 0);
      }
    }
    for (const auto& [partition, count] : owners) idle = idle && count == 1;
    if (idle) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

}  // namespace leadflow::testing
