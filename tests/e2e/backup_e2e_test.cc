// Online backups through the real binaries: `leadflow backup create` while
// channel events stream in, `backup list`, `backup restore` into a fresh
// data dir, and leadflowd started on the restored dir serving the same
// read models, byte for byte.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "leadflow/v1/backup.grpc.pb.h"
#include "leadflow/v1/service.grpc.pb.h"
#include "support/channel_events.h"
#include "support/read_models.h"
#include "support/server_process.h"

namespace leadflow {
namespace {

using testing::FirstDifference;
using testing::ReadModels;
using testing::ServerProcess;
using testing::TempDir;

constexpr int kEvents = 3000;

// Runs the leadflow CLI against `server`; its exit status, stdout in `out`.
int Cli(const ServerProcess& server, const std::string& args, std::string* out = nullptr) {
  const char* cli = std::getenv("LEADFLOW_CLI");
  REQUIRE(cli != nullptr);
  const std::string output = absl::StrCat(std::filesystem::temp_directory_path().string(),
                                          "/backup-cli-", ::getpid(), ".out");
  const std::string command = absl::StrCat("LEADFLOW_TOKEN='", server.AdminKey(), "' '", cli,
                                           "' --target ", server.target(), " ", args, " >", output);
  const int status = std::system(command.c_str());
  if (out != nullptr) {
    std::ifstream in(output);
    out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::filesystem::remove(output);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void Publish(const std::shared_ptr<grpc::Channel>& channel, int from, int to,
             std::atomic<int>* published) {
  auto intake = v1::IntakeService::NewStub(channel);
  for (int i = from; i < to; ++i) {
    v1::PublishChannelEventRequest request;
    // 500 people, each calling several times.
    *request.mutable_event() = testing::CallEvent(absl::StrCat("backup-call-", i),
                                                  absl::StrCat("+7916", 5500000 + i % 500));
    v1::PublishChannelEventResponse response;
    for (;;) {
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      if (intake->PublishChannelEvent(&ctx, request, &response).ok()) break;
    }
    ++*published;
  }
}

// Starts leadflowd on a restored data dir, lets it catch up and stops it:
// the read models it then holds.
std::map<std::string, std::string> ServedAfterRestore(const ServerProcess& original,
                                                      const std::string& restored) {
  // The administrator key is a file beside the store, not in it.
  std::filesystem::copy_file(original.AdminKeyFile(), restored + "/admin.key");
  ServerProcess server(restored);
  server.Start();
  REQUIRE(testing::WaitUntilIdle(server.Channel()));
  REQUIRE(server.Stop() == 0);
  return ReadModels(restored);
}

TEST_CASE("a backup made during intake restores into a fresh data dir with identical read models") {
  TempDir dir;
  const std::string data = dir.Sub("data");
  const std::string backups = dir.Sub("backups");
  ServerProcess server(data, {"--backup-dir", backups});
  server.Start();

  std::string listed;
  REQUIRE(Cli(server, "backup list", &listed) == 0);
  CHECK(listed.empty());

  // Two backups while events stream in, one once everything is processed.
  std::atomic<int> published{0};
  std::thread writer(Publish, server.Channel(), 0, kEvents, &published);
  while (published < kEvents / 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::string first;
  CHECK(Cli(server, "backup create", &first) == 0);
  CHECK(first.find("\"id\":1") != std::string::npos);
  // A credential without the administrator role may not back up.
  {
    auto access = v1::AccessService::NewStub(server.Channel());
    v1::CreateApiKeyRequest issue;
    issue.set_principal("anna");
    issue.add_roles("manager");
    v1::CreateApiKeyResponse issued;
    grpc::ClientContext issue_ctx;
    REQUIRE(access->CreateApiKey(&issue_ctx, issue, &issued).ok());
    auto backup = v1::BackupService::NewStub(server.ChannelWithToken(issued.key()));
    grpc::ClientContext ctx;
    v1::Backup made;
    const grpc::Status refused = backup->CreateBackup(&ctx, v1::CreateBackupRequest(), &made);
    CHECK(refused.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK(refused.error_message().find("administrator") != std::string::npos);
  }
  while (published < 2 * kEvents / 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(Cli(server, "backup create") == 0);
  writer.join();
  REQUIRE(testing::WaitUntilIdle(server.Channel()));
  std::string last;
  CHECK(Cli(server, "backup create", &last) == 0);
  CHECK(last.find("\"id\":3") != std::string::npos);
  CHECK(last.find(backups) != std::string::npos);

  REQUIRE(Cli(server, "backup list", &listed) == 0);
  CHECK(std::count(listed.begin(), listed.end(), '\n') == 3);

  REQUIRE(server.Stop() == 0);
  const auto original = ReadModels(data);

  // Restored, the quiescent backup serves the read models the server had.
  {
    const std::string restored = dir.Sub("restored");
    std::string out;
    REQUIRE(Cli(server, absl::StrCat("backup restore --dir ", backups, " --to ", restored), &out) ==
            0);
    CHECK(out.find("\"id\":3") != std::string::npos);
    const auto served = ServedAfterRestore(server, restored);
    CHECK(served.size() == original.size());
    INFO("first differing key: " << FirstDifference(original, served));
    CHECK(FirstDifference(original, served).empty());

    // A restore never mixes with live data; an unknown backup is refused.
    CHECK(Cli(server, absl::StrCat("backup restore --dir ", backups, " --to ", restored)) == 1);
    CHECK(Cli(server, absl::StrCat("backup restore --dir ", backups, " --id 99 --to ",
                                   dir.Sub("nowhere"))) == 1);
    // Listed without a server, from the dir itself.
    REQUIRE(Cli(server, absl::StrCat("backup list --dir ", backups), &listed) == 0);
    CHECK(std::count(listed.begin(), listed.end(), '\n') == 3);
  }

  // Restored, a backup taken mid-intake is consistent: its read models are
  // what the log it holds rebuilds, and it holds part of the intake.
  {
    const std::string restored = dir.Sub("restored-mid");
    REQUIRE(Cli(server,
                absl::StrCat("backup restore --dir ", backups, " --id 1 --to ", restored)) == 0);
    const auto kept = ServedAfterRestore(server, restored);
    ServerProcess rebuilding(restored, {"--rebuild-read-models"});
    rebuilding.Start();
    REQUIRE(testing::WaitUntilIdle(rebuilding.Channel()));
    REQUIRE(rebuilding.Stop() == 0);
    const auto rebuilt = ReadModels(restored);
    CHECK(kept.size() == rebuilt.size());
    INFO("first differing key: " << FirstDifference(kept, rebuilt));
    CHECK(FirstDifference(kept, rebuilt).empty());
    CHECK(kept.size() < original.size());
  }

  // --keep prunes old backups; a negative one is refused naming it.
  server.Start();
  auto backup = v1::BackupService::NewStub(server.Channel());
  v1::CreateBackupRequest request;
  request.set_keep(-1);
  v1::Backup made;
  grpc::ClientContext ctx;
  const grpc::Status refused = backup->CreateBackup(&ctx, request, &made);
  CHECK(refused.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(refused.error_message().find("keep") != std::string::npos);
  REQUIRE(Cli(server, "backup create --keep 2") == 0);
  REQUIRE(Cli(server, "backup list", &listed) == 0);
  CHECK(std::count(listed.begin(), listed.end(), '\n') == 2);
  CHECK(listed.find("\"id\":4") != std::string::npos);
  CHECK(listed.find("\"id\":1,") == std::string::npos);
}

}  // namespace
}  // namespace leadflow
