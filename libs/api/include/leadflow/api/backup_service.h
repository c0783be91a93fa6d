#pragma once

#include <string>

#include "leadflow/api/service_context.h"
#include "leadflow/store/database.h"
#include "leadflow/v1/backup.grpc.pb.h"

namespace leadflow::api {

// Online backups of the embedded engine's store into one backup dir on
// the server's machine; the administrator's calls. Restore is offline
// (store::RestoreBackup, `leadflow backup restore`).
class BackupServiceImpl final : public v1::BackupService::Service {
 public:
  // `database` null: the engine keeps its log elsewhere (Kafka), and the
  // calls are refused with FAILED_PRECONDITION saying what to do instead.
  BackupServiceImpl(const ServiceContext* context, store::Database* database,
                    std::string backup_dir)
      : context_(context), database_(database), backup_dir_(std::move(backup_dir)) {}

  grpc::Status CreateBackup(grpc::ServerContext* ctx, const v1::CreateBackupRequest* request,
                            v1::Backup* response) override;
  grpc::Status ListBackups(grpc::ServerContext* ctx, const v1::ListBackupsRequest* request,
                           v1::ListBackupsResponse* response) override;

 private:
  // The caller may operate the server and the engine keeps a local log.
  absl::Status Permitted(const grpc::ServerContext& ctx, absl::string_view what) const;

  const ServiceContext* context_;
  store::Database* database_;
  const std::string backup_dir_;
};

}  // namespace leadflow::api
