#include "backup_commands.h"

#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "leadflow/store/backups.h"
#include "leadflow/v1/backup.grpc.pb.h"

namespace leadflow::cli {
namespace {

struct BackupArgs {
  int keep = 0;
  std::string dir;
  std::string to;
  uint32_t id = 0;
};

}  // namespace

void AddBackupCommands(CLI::App& app, const Common& common, int& rc) {
  auto args = std::make_shared<BackupArgs>();
  auto* backup = app.add_subcommand(
      "backup", "Back up a running server (embedded engine) and restore into a new data dir");
  backup->require_subcommand(1);

  auto* create = backup->add_subcommand(
      "create", "Back the running server up into its --backup-dir, without stopping it");
  create->add_option("--keep", args->keep, "Then keep only the newest N backups (0: all)")
      ->check(CLI::NonNegativeNumber);
  create->callback([args, &common, &rc] {
    v1::CreateBackupRequest request;
    request.set_keep(args->keep);
    // A backup takes as long as copying the data dir: no deadline of its own.
    Common patient = common;
    patient.timeout = 0;
    rc = Unary(*StubOf<v1::BackupService>(patient), &v1::BackupService::Stub::CreateBackup, request,
               patient.timeout);
  });

  auto* list = backup->add_subcommand(
      "list", "Backups, oldest first, one JSON object per line: the server's, or those in --dir");
  list->add_option("--dir", args->dir, "A backup dir on this machine (the server not asked)");
  list->callback([args, &common, &rc] {
    if (args->dir.empty()) {
      rc = Call(
          *StubOf<v1::BackupService>(common), &v1::BackupService::Stub::ListBackups,
          v1::ListBackupsRequest(), common.timeout,
          [](const v1::ListBackupsResponse& response) { return PrintEach(response.backups()); });
      return;
    }
    auto backups = store::ListBackups(args->dir);
    if (!backups.ok()) {
      rc = Invalid("--dir", backups.status());
      return;
    }
    for (const auto& info : *backups) Print(store::ToProto(info, args->dir));
    rc = 0;
  });

  auto* restore = backup->add_subcommand(
      "restore",
      "Restore a backup into a new data dir (offline: start leadflowd on it afterwards)");
  restore->add_option("--dir", args->dir, "The backup dir (the server's --backup-dir)")->required();
  restore->add_option("--to", args->to, "The new data dir (must not exist or be empty)")
      ->required();
  restore->add_option("--id", args->id, "Which backup (default: the newest)");
  restore->callback([args, &rc] {
    auto restored = store::RestoreBackup(args->dir, args->id, args->to);
    if (!restored.ok()) {
      std::fprintf(stderr, "leadflow: restore: %s\n",
                   std::string(restored.status().ToString()).c_str());
      rc = 1;
      return;
    }
    Print(store::ToProto(*restored, args->dir));
    std::fprintf(stderr,
                 "leadflow: backup %u restored into %s; start leadflowd --data-dir %s (copy the "
                 "administrator key file too, or a new one is made)\n",
                 restored->id, args->to.c_str(), args->to.c_str());
    rc = 0;
  });
}

}  // namespace leadflow::cli
