#pragma once

#include <grpcpp/grpcpp.h>
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
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

// A child process of ours (a built binary named by an environment
// variable), started and stopped by the test. Its stdout is drained on a
// thread so it never blocks.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts $<binary_env> with `args` and waits until a stdout line contains
  // `marker`; returns the rest of that line. REQUIREs success.
  std::string Start(const char* binary_env, const std::vector<std::string>& args,
                    const std::string& marker);
  // SIGTERM, then waits; returns the exit status.
  int Stop();
  // SIGKILL: no chance to flush or shut down.
  void Kill();
  // Waits for it to exit by itself; its exit status, or nullopt when it
  // still runs after `timeout`.
  std::optional<int> WaitExit(absl::Duration timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // SIGSTOP / SIGCONT: frozen, it answers nothing (a hung host, a network
  // partition) until resumed. Resume before stopping it.
  void Pause();
  void Resume();
  // Everything it printed on stdout so far.
  std::string Output() const;

 private:
  void Reap(int signal_number);
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int exit_status_ = -1;
  std::shared_ptr<std::string> output_;
  std::shared_ptr<std::mutex> output_mu_;
  std::thread drain_;
};

// The real leadflowd binary ($LEADFLOWD) on a free loopback port (it is
// started with --listen 127.0.0.1:0 and prints the port it got).
class ServerProcess {
 public:
  explicit ServerProcess(std::string data_dir, std::vector<std::string> extra_args = {})
      : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {}

  void Start();
  int Stop() { return process_.Stop(); }
  void Kill() { process_.Kill(); }
  std::optional<int> WaitExit(absl::Duration timeout) { return process_.WaitExit(timeout); }
  // The arguments after --data-dir and --listen, from the next Start on.
  void SetExtraArgs(std::vector<std::string> args) { extra_args_ = std::move(args); }
  bool running() const { return process_.running(); }
  pid_t pid() const { return process_.pid(); }
  const std::string& target() const { return target_; }
  // A channel whose calls carry the administrator key leadflowd made at
  // first start (its --admin-key-file, else <data dir>/admin.key).
  std::shared_ptr<grpc::Channel> Channel() const;
  // A channel whose calls carry `token` (none when empty).
  std::shared_ptr<grpc::Channel> ChannelWithToken(const std::string& token) const;
  std::string AdminKeyFile() const;
  std::string AdminKey() const;
  std::string Output() const { return process_.Output(); }

 private:
  std::string data_dir_;
  std::vector<std::string> extra_args_;
  std::string target_;
  ChildProcess process_;
};

// leadflow-dev-broker ($LEADFLOW_DEV_BROKER): Kafka-protocol brokers on
// loopback, in memory.
class DevBrokerProcess {
 public:
  void Start() {
    bootstrap_servers_ = process_.Start("LEADFLOW_DEV_BROKER", {}, "bootstrap servers ");
  }
  const std::string& bootstrap_servers() const { return bootstrap_servers_; }
  // Every broker away at once, and back.
  void Pause() { process_.Pause(); }
  void Resume() { process_.Resume(); }

 private:
  std::string bootstrap_servers_;
  ChildProcess process_;
};

// Polls AdminService until every processor has caught up with its input,
// or `timeout` passes. Returns whether it did.
bool WaitUntilIdle(const std::shared_ptr<grpc::Channel>& channel,
                   absl::Duration timeout = absl::Seconds(60));

// The same for the instances of one cluster: every partition of a
// partitioned processor has exactly one owner among them, and no instance
// has lag.
bool WaitUntilClusterIdle(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
                          absl::Duration timeout = absl::Seconds(90));

// Calls `method` (e.g. "/leadflow.v1.IntakeService/PublishChannelEvent")
// with raw request bytes, as a client that does not use our protos would.
grpc::Status RawUnaryCall(const std::shared_ptr<grpc::Channel>& channel, const std::string& method,
                          const std::string& request, std::string* response);

// A client context with a deadline `seconds` away.
std::unique_ptr<grpc::ClientContext> Deadline(int seconds = 30);

}  // namespace leadflow::testing
