#include "leadflow/api/backup_service.h"

#include "absl/strings/str_cat.h"
#include "leadflow/api/status_mapping.h"
#include "leadflow/domain/field_error.h"
#include "leadflow/domain/principal.h"

namespace leadflow::api {

absl::Status BackupServiceImpl::Permitted(const grpc::ServerContext& ctx,
                                          absl::string_view what) const {
  const auto caller = context_->auth->Authenticate(ctx);
  if (!caller.ok()) return caller.status();
  if (absl::Status s = domain::MayOperateServer(*caller, what); !s.ok()) return s;
  if (database_ == nullptr) {
    return absl::FailedPreconditionError(
        "backups are of the embedded engine: on Kafka the event log is the brokers' to keep "
        "(replication, their own backups) and a new instance rebuilds its state and read "
        "models from it (docs/operations.md, Backups)");
  }
  return absl::OkStatus();
}

grpc::Status BackupServiceImpl::CreateBackup(grpc::ServerContext* ctx,
                                             const v1::CreateBackupRequest* request,
                                             v1::Backup* response) {
  if (request->keep() < 0) {
    return ToGrpcStatus(domain::InvalidField("keep", "must be 0 (keep all) or more"));
  }
  if (absl::Status s = Permitted(*ctx, "back the server up"); !s.ok()) return ToGrpcStatus(s);
  absl::StatusOr<store::BackupInfo> info = database_->CreateBackup(backup_dir_, request->keep());
  if (!info.ok()) return ToGrpcStatus(info.status());
  *response = store::ToProto(*info, backup_dir_);
  return grpc::Status::OK;
}

grpc::Status BackupServiceImpl::ListBackups(grpc::ServerContext* ctx,
                                            const v1::ListBackupsRequest* /*request*/,
                                            v1::ListBackupsResponse* response) {
  if (absl::Status s = Permitted(*ctx, "list backups"); !s.ok()) return ToGrpcStatus(s);
  response->set_backup_dir(backup_dir_);
  absl::StatusOr<std::vector<store::BackupInfo>> infos = store::ListBackups(backup_dir_);
  // No backup made yet: an empty list, not an error.
  if (absl::IsFailedPrecondition(infos.status())) return grpc::Status::OK;
  if (!infos.ok()) return ToGrpcStatus(infos.status());
  for (const auto& info : *infos) *response->add_backups() = store::ToProto(info, backup_dir_);
  return grpc::Status::OK;
}

}  // namespace leadflow::api
