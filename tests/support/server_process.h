#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"

namespace leadflow::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The real leadflowd binary ($LEADFLOWD) on a free loopback port (it is
// started with --listen 127.0.0.1:0 and prints the port it got).
class ServerProcess {
 public:
  explicit ServerProcess(std::string data_dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();

  // Starts it and waits until it listens. REQUIREs success.
  void Start();
  // SIGTERM, then waits; returns the exit status.
  int Stop();
  // SIGKILL: no chance to flush or shut down.
  void Kill();
  bool running() const { return pid_ > 0; }

  const std::string& target() const { return target_; }
  std::shared_ptr<grpc::Channel> Channel() const;
  // Everything it printed on stdout so far.
  std::string Output() const;

 private:
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string target_;
  std::shared_ptr<std::string> output_;
  std::shared_ptr<std::mutex> output_mu_;
  std::thread drain_;
};

// Polls AdminService until every processor has caught up with its input,
// or `timeout` passes. Returns whether it did.
bool WaitUntilIdle(const std::shared_ptr<grpc::Channel>& channel,
                   absl::Duration timeout = absl::Seconds(60));

// Calls `method` (e.g. "/leadflow.v1.IntakeService/PublishChannelEvent")
// with raw request bytes, as a client that does not use our protos would.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response);

// A client context with a deadline `seconds` away.
std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 30);

}  // namespace leadflow::testing
