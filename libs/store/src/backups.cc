#include "leadflow/store/backups.h"

#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "backup_engine.h"
#include "leadflow/base/proto_util.h"
#include "rocks_status.h"

namespace leadflow::store {
namespace {

BackupInfo InfoOf(const rocksdb::BackupInfo& info) {
  BackupInfo out;
  out.id = info.backup_id;
  out.created = absl::FromUnixSeconds(info.timestamp);
  out.size_bytes = info.size;
  out.files = info.number_files;
  return out;
}

absl::Status MustExist(const std::string& backup_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(backup_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup dir ", backup_dir, ": no such directory"));
  }
  return absl::OkStatus();
}

template <typename Engine>
absl::StatusOr<std::unique_ptr<Engine>> OpenEngine(const std::string& backup_dir) {
  rocksdb::BackupEngineOptions options(backup_dir);
  Engine* raw = nullptr;
  LEADFLOW_RETURN_IF_ROCKS_ERROR(Engine::Open(options, rocksdb::Env::Default(), &raw),
                                 absl::StrCat("opening backup dir ", backup_dir));
  return std::unique_ptr<Engine>(raw);
}

}  // namespace

absl::StatusOr<BackupInfo> CreateBackupOf(rocksdb::DB* db, const std::string& backup_dir,
                                          int keep) {
  std::error_code ec;
  std::filesystem::create_directories(backup_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup dir ", backup_dir, ": ", ec.message()));
  }
  auto engine = OpenEngine<rocksdb::BackupEngine>(backup_dir);
  if (!engine.ok()) return engine.status();
  // Without a flush the write-ahead log is copied too: the backup is one
  // point in time across the column families (log, state, views), as a
  // crash at that moment would leave them.
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = false;
  rocksdb::BackupID id = 0;
  LEADFLOW_RETURN_IF_ROCKS_ERROR((*engine)->CreateNewBackup(options, db, &id),
                                 absl::StrCat("backing up into ", backup_dir));
  rocksdb::BackupInfo info;
  LEADFLOW_RETURN_IF_ROCKS_ERROR((*engine)->GetBackupInfo(id, &info),
                                 absl::StrCat("reading backup ", id));
  if (keep > 0) {
    LEADFLOW_RETURN_IF_ROCKS_ERROR((*engine)->PurgeOldBackups(static_cast<uint32_t>(keep)),
                                   absl::StrCat("removing backups beyond the newest ", keep));
  }
  return InfoOf(info);
}

v1::Backup ToProto(const BackupInfo& info, const std::string& backup_dir) {
  v1::Backup backup;
  backup.set_id(info.id);
  *backup.mutable_create_time() = ToTimestamp(info.created);
  backup.set_size_bytes(info.size_bytes);
  backup.set_files(info.files);
  backup.set_backup_dir(backup_dir);
  return backup;
}

absl::StatusOr<std::vector<BackupInfo>> ListBackups(const std::string& backup_dir) {
  if (absl::Status s = MustExist(backup_dir); !s.ok()) return s;
  auto engine = OpenEngine<rocksdb::BackupEngineReadOnly>(backup_dir);
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  std::vector<BackupInfo> out;
  out.reserve(infos.size());
  for (const auto& info : infos) out.push_back(InfoOf(info));
  return out;
}

absl::StatusOr<BackupInfo> RestoreBackup(const std::string& backup_dir, uint32_t id,
                                         const std::string& data_dir) {
  if (absl::Status s = MustExist(backup_dir); !s.ok()) return s;
  std::error_code ec;
  if (std::filesystem::exists(data_dir, ec) && !std::filesystem::is_empty(data_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data dir ", data_dir,
                     " is not empty: restore into a new one (a restore never mixes "
                     "with live data)"));
  }
  auto engine = OpenEngine<rocksdb::BackupEngineReadOnly>(backup_dir);
  if (!engine.ok()) return engine.status();
  rocksdb::BackupInfo info;
  if (id == 0) {
    std::vector<rocksdb::BackupInfo> infos;
    (*engine)->GetBackupInfo(&infos);
    if (infos.empty()) {
      return absl::NotFoundError(absl::StrCat("backup dir ", backup_dir, " holds no backup"));
    }
    info = infos.back();
  } else {
    rocksdb::Status found = (*engine)->GetBackupInfo(id, &info);
    if (!found.ok()) {
      return absl::NotFoundError(
          absl::StrCat("backup ", id, " in ", backup_dir, ": ", found.ToString()));
    }
  }
  rocksdb::IOStatus verified = (*engine)->VerifyBackup(info.backup_id, true);
  if (!verified.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", info.backup_id, " is damaged: ", verified.ToString()));
  }
  std::filesystem::create_directories(data_dir, ec);
  if (ec)
    return absl::FailedPreconditionError(absl::StrCat("data dir ", data_dir, ": ", ec.message()));
  LEADFLOW_RETURN_IF_ROCKS_ERROR(
      (*engine)->RestoreDBFromBackup(info.backup_id, data_dir, data_dir),
      absl::StrCat("restoring backup ", info.backup_id, " into ", data_dir));
  return InfoOf(info);
}

}  // namespace leadflow::store
