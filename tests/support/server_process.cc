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
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

ServerProcess::ServerProcess(std::string data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {}

ServerProcess::~ServerProcess() {
  if (running()) Stop();
}

void ServerProcess::Start() {
  const char* binary = std::getenv("LEADFLOWD");
  REQUIRE(binary != nullptr);
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  std::vector<std::string> args = {binary, "--data-dir", data_dir_, "--listen", "127.0.0.1:0"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    execv(binary, argv.data());
    _exit(127);
  }
  close(fds[1]);
  stdout_fd_ = fds[0];
  output_ = std::make_shared<std::string>();
  output_mu_ = std::make_shared<std::mutex>();
  // Read until the port shows, then keep draining so the child never blocks.
  std::string seen;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  const std::string marker = "listening on ";
  while (absl::Now() < deadline) {
    pollfd pfd{stdout_fd_, POLLIN, 0};
    if (poll(&pfd, 1, 100) <= 0) continue;
    char buffer[4096];
    const ssize_t n = read(stdout_fd_, buffer, sizeof(buffer));
    if (n <= 0) break;
    seen.append(buffer, static_cast<size_t>(n));
    const size_t at = seen.find(marker);
    if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
      target_ = seen.substr(at + marker.size(), seen.find('\n', at) - at - marker.size());
      break;
    }
  }
  INFO("leadflowd output: " << seen);
  REQUIRE(!target_.empty());
  *output_ = seen;
  drain_ = std::thread([fd = stdout_fd_, out = output_, mu = output_mu_] {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
      std::lock_guard<std::mutex> lock(*mu);
      out->append(buffer, static_cast<size_t>(n));
    }
  });
}

namespace {
int Reap(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}
}  // namespace

int ServerProcess::Stop() {
  if (!running()) return -1;
  kill(pid_, SIGTERM);
  const int code = Reap(pid_);
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  close(stdout_fd_);
  return code;
}

void ServerProcess::Kill() {
  if (!running()) return;
  kill(pid_, SIGKILL);
  Reap(pid_);
  pid_ = -1;
  if (drain_.joinable()) drain_.join();
  close(stdout_fd_);
}

std::shared_ptr<grpc::Channel> ServerProcess::Channel() const {
  return grpc::CreateChannel(target_, grpc::InsecureChannelCredentials());
}

std::string ServerProcess::Output() const {
  std::lock_guard<std::mutex> lock(*output_mu_);
  return *output_;
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
    if (admin->GetServerStatus(ctx.get(), {}, &status).ok() && status.total_lag() == 0) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

}  // namespace leadflow::testing
